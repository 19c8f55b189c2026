import { describe, expect, it } from "vitest";
import { mergeRuns } from "../src/merge-runs.js";
import type { RunResult } from "../src/run-result.js";

const report = (role: string, pid: number, cpuMs: number, requests: number, sleeps: number, peakRssMB: number) => ({
  role,
  pid,
  cpuMs,
  cpuUsPerRequest: (cpuMs * 1000) / requests,
  rssMB: peakRssMB - 1,
  peakRssMB,
  sleepsPerRequest: sleeps,
  syscallsPerRequest: 2,
});

const setup = (pid: number, broker1: number, broker2: number, cpu: [number, number], elapsedMs: number): RunResult =>
  ({
    scenario: "fleet2",
    system: "switchyard-fleet",
    label: "Switchyard fleet",
    shape: { connections: 100, inflight: 1, payloadBytes: 64, channels: 1 },
    status: "ok",
    requests: broker1 + broker2,
    errors: 0,
    elapsedMs,
    windows: 2,
    requestsPerSecond: 0,
    megabytesPerSecond: 0,
    server: report("2 switchyard-brokers", pid, cpu[0] + cpu[1], broker1 + broker2, 0.05, 70),
    fleetBrokers: [
      { ...report("switchyard-broker 1", pid, cpu[0], broker1, 0.04, 70), address: `127.0.0.1:${pid}`, requests: broker1 },
      { ...report("switchyard-broker 2", pid + 1, cpu[1], broker2, 0.08, 60), address: `127.0.0.1:${pid + 1}`, requests: broker2 },
    ],
    others: [report("providers", pid + 2, 100, broker1 + broker2, 0.05, 50)],
    bench: report("bench (clients)", 1, 400, broker1 + broker2, 0.01, 90),
  }) as unknown as RunResult;

describe("merging an interleaved run's two setups", () => {
  it("sums counts and CPU and recomputes every per-request figure over both, brokers matched by place", () => {
    const merged = mergeRuns(setup(100, 6000, 4000, [300, 200], 1000), setup(200, 5000, 5000, [200, 300], 1000));
    expect(merged.requests).toBe(20_000);
    expect(merged.elapsedMs).toBe(2000);
    expect(merged.windows).toBe(4);
    expect(merged.requestsPerSecond).toBe(10_000);
    expect(merged.megabytesPerSecond).toBeCloseTo(0.64);
    const [one, two] = merged.fleetBrokers!;
    expect(one).toMatchObject({ role: "switchyard-broker 1", requests: 11_000, cpuMs: 500, address: "127.0.0.1:100, then 127.0.0.1:200" });
    expect(one!.cpuUsPerRequest).toBeCloseTo(500_000 / 11_000);
    expect(two!.cpuUsPerRequest).toBeCloseTo(500_000 / 9000);
    expect(two!.sleepsPerRequest).toBeCloseTo(0.08);
    expect(merged.server!.cpuUsPerRequest).toBeCloseTo(50);
    expect(merged.bench!.cpuUsPerRequest).toBeCloseTo(40);
    expect(merged.others[0]!.cpuUsPerRequest).toBeCloseTo(10);
    expect(merged.server!.peakRssMB).toBe(70);
  });

  it("weights sleeps and system calls per request by each setup's requests", () => {
    const first = setup(100, 1000, 1000, [100, 100], 1000);
    const second = setup(200, 3000, 3000, [100, 100], 1000);
    second.fleetBrokers![0]!.sleepsPerRequest = 0.2;
    expect(mergeRuns(first, second).fleetBrokers![0]!.sleepsPerRequest).toBeCloseTo((0.04 * 1000 + 0.2 * 3000) / 4000);
  });

  it("is the failure when either setup failed", () => {
    const failed = { ...setup(200, 1, 1, [1, 1], 1), status: "failed", reason: "the brokers did not start" } as RunResult;
    expect(mergeRuns(setup(100, 10, 10, [1, 1], 10), failed)).toBe(failed);
    expect(mergeRuns(failed, setup(100, 10, 10, [1, 1], 10))).toBe(failed);
  });
});
