import { describe, expect, it } from "vitest";
import { costLines, MONITOR_PAIRS } from "../src/report/feature-cost.js";
import type { RunResult } from "../src/run-result.js";
import { SCENARIOS, withMonitored } from "../src/scenarios.js";

const result = (system: RunResult["system"], requestsPerSecond: number, cpuUsPerRequest: number): RunResult =>
  ({
    scenario: "throughput100",
    system,
    status: "ok",
    requestsPerSecond,
    latency: { p50Us: 100, p99Us: 200, p999Us: 300, maxUs: 400, meanUs: 120 },
    server: { role: "switchyard-broker", pid: 1, cpuMs: 0, cpuUsPerRequest, rssMB: 0, peakRssMB: 0 },
  }) as unknown as RunResult;

describe("--monitor", () => {
  it("runs the monitored broker right after the plain one in every Switchyard broker load scenario, and nowhere else", () => {
    const planned = withMonitored(SCENARIOS);
    for (const scenario of planned) {
      const monitored = scenario.kind === "load" && scenario.ours === "switchyard";
      expect(scenario.peers[0] === "switchyard-monitored", scenario.name).toBe(monitored);
      expect(scenario.peers.filter((peer) => peer === "switchyard-monitored").length, scenario.name).toBe(monitored ? 1 : 0);
    }
  });

  it("says what monitoring cost from the same run's figures", () => {
    const lines = costLines("Monitoring", MONITOR_PAIRS, [result("switchyard", 40_000, 20), result("switchyard-monitored", 30_000, 25)]);
    expect(lines).toEqual(["  Monitoring cost, Switchyard: 40,000 → 30,000 req/s (75%), p50 100 → 100 µs, switchyard-broker CPU 20 → 25 µs/req"]);
    expect(costLines("Monitoring", MONITOR_PAIRS, [result("switchyard", 40_000, 20)])).toEqual([]);
  });
});
