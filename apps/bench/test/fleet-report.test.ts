import { describe, expect, it } from "vitest";
import { scenarioTable } from "../src/report/table.js";
import { judgeTargets } from "../src/report/targets.js";
import type { FleetBrokerReport, RunResult } from "../src/run-result.js";
import { SCENARIOS } from "../src/scenarios.js";

const processReport = (role: string, cpuUsPerRequest: number, sleepsPerRequest?: number) => ({ role, pid: 1, cpuMs: 0, cpuUsPerRequest, rssMB: 0, peakRssMB: 0, sleepsPerRequest });

const oneBroker = {
  scenario: "fleet2",
  system: "switchyard",
  label: "Switchyard",
  status: "ok",
  requests: 100_000,
  requestsPerSecond: 50_000,
  server: processReport("switchyard-broker", 10, 0.004),
  bench: processReport("bench (clients)", 8),
  others: [],
} as unknown as RunResult;

const severalBrokers = (system: "switchyard-fleet" | "switchyard-sharded", label: string) => (brokers: Array<number | undefined>, client: number): RunResult =>
  ({
    ...oneBroker,
    system,
    label,
    server: processReport("2 switchyard-brokers", ((brokers[0] ?? 0) + (brokers[1] ?? 0)) / 2),
    fleetBrokers: brokers.map((cpu, i): FleetBrokerReport => ({ ...processReport(`switchyard-broker ${i + 1}`, cpu as number, 0.08), address: `127.0.0.1:${9090 + i}`, requests: 50_000 })),
    bench: processReport("bench (clients)", client),
  }) as unknown as RunResult;
const fleet = severalBrokers("switchyard-fleet", "Switchyard fleet");
const sharded = severalBrokers("switchyard-sharded", "Switchyard sharded");

const verdicts = (results: RunResult[]) => judgeTargets(results, (scenario) => (scenario === "fleet2" || scenario === "failover" ? "switchyard-fleet" : undefined));
const verdict = (results: RunResult[], target: string) => verdicts(results).find((t) => t.target === target);

describe("fleet2's targets", () => {
  it("judge the broker of highest CPU per request it carried against one broker's, not the brokers' average", () => {
    // Average 10.5 (within 1.1× of 10), but one broker at 11.5 is not.
    const [brokers, , clients] = verdicts([fleet([9.5, 11.5], 8.5), oneBroker]);
    expect(brokers).toMatchObject({ target: "each broker's CPU/req ≤ 1.1× Switchyard", holds: false });
    expect(clients).toMatchObject({ target: "client CPU/req ≤ 1.1× Switchyard", holds: true });
    expect(verdicts([fleet([10.5, 10.9], 9), oneBroker])[0]!.holds).toBe(true);
    expect(verdicts([fleet([10.5, 10.9], 8.9), oneBroker])[2]!.holds).toBe(false);
  });

  it("judge each broker and the clients against the sharded brokers' too, highest against highest", () => {
    const results = [fleet([14, 15.5], 9), oneBroker, sharded([13, 14.5], 8.5)];
    expect(verdict(results, "each broker's CPU/req ≤ 1.1× Switchyard sharded")).toMatchObject({ holds: true, detail: "15.5 vs 14.5 µs: 1.07×" });
    expect(verdict(results, "client CPU/req ≤ 1.1× Switchyard sharded")?.holds).toBe(true);
    expect(verdict([fleet([14, 16], 9.4), oneBroker, sharded([13, 14.5], 8.5)], "each broker's CPU/req ≤ 1.1× Switchyard sharded")?.holds).toBe(false);
    expect(verdict([fleet([14, 16], 9.4), oneBroker, sharded([13, 14.5], 8.5)], "client CPU/req ≤ 1.1× Switchyard sharded")?.holds).toBe(false);
  });

  it("cannot judge against the sharded brokers when one of them has no figure, or when they did not run", () => {
    expect(verdict([fleet([14, 15], 9), oneBroker, sharded([13, undefined], 8.5)], "each broker's CPU/req ≤ 1.1× Switchyard sharded")?.holds).toBeUndefined();
    expect(verdict([fleet([14, 15], 9), oneBroker], "each broker's CPU/req ≤ 1.1× Switchyard sharded")?.holds).toBeUndefined();
  });

  it("print each broker's share, CPU and sleeps beside one broker's flat out and the sharded brokers', and the clients' beside both", () => {
    const table = scenarioTable(SCENARIOS.find((s) => s.name === "fleet2")!, [fleet([9.5, 11.5], 8.5), oneBroker, sharded([11, 12], 9)], []);
    expect(table).toContain(
      "Switchyard fleet, switchyard-broker 2 (127.0.0.1:9091): 50.0k requests (50%), CPU 11.5 µs per request it carried: 1.15× one broker's flat out (10.0), 0.96× the sharded brokers' highest (12.0); sleeps 0.080 per request (one broker flat out 0.004)",
    );
    expect(table).toContain("Switchyard fleet, clients (bench process): CPU 8.50 µs/req (1.06× the one-broker clients' 8.00, 0.94× the sharded clients' 9.00)");
    // The sharded brokers get their own lines, beside one broker flat out only.
    expect(table).toContain("Switchyard sharded, switchyard-broker 1 (127.0.0.1:9090): 50.0k requests (50%), CPU 11.0 µs per request it carried: 1.10× one broker's flat out (10.0); sleeps");
  });
});

describe("failover's target", () => {
  const failover = (max: number | undefined): RunResult =>
    ({
      ...oneBroker,
      scenario: "failover",
      system: "switchyard-fleet",
      failover: { killed: "127.0.0.1:9090", brokers: 3, consumers: 100, moved: 33, sent: 1000, answered: 967, failedByCode: { DISCONNECTED: 33 }, unexpected: 0, gapMs: { p50: 1, max }, stayedGapMs: { p50: 1, max: 2 }, noticedMs: { p50: 0.5, max: 0.6 } },
    }) as unknown as RunResult;

  it("is a gap under 1 s for the slowest moved consumer, and cannot be judged when one was never answered", () => {
    const judge = (max: number | undefined) => verdicts([failover(max)]).find((t) => t.scenario === "failover")!;
    expect(judge(999)).toMatchObject({ target: "failover gap (max) < 1000 ms", holds: true });
    expect(judge(1000).holds).toBe(false);
    expect(judge(undefined).holds).toBeUndefined();
  });
});
