import { describe, expect, it } from "vitest";
import type { FleetBrokerReport, RunResult } from "../src/run-result.js";
import { SCENARIOS } from "../src/scenarios.js";
import { scenarioTable } from "../src/report/table.js";
import { judgeTargets } from "../src/report/targets.js";

const processReport = (role: string, cpuUsPerRequest: number) => ({ role, pid: 1, cpuMs: 0, cpuUsPerRequest, rssMB: 0, peakRssMB: 0 });

const oneBroker = {
  scenario: "fleet2",
  system: "switchyard",
  label: "Switchyard",
  status: "ok",
  requests: 100_000,
  requestsPerSecond: 50_000,
  server: processReport("switchyard-broker", 10),
  bench: processReport("bench (clients)", 8),
  others: [],
} as unknown as RunResult;

const fleet = (brokers: number[], client: number): RunResult =>
  ({
    ...oneBroker,
    system: "switchyard-fleet",
    label: "Switchyard fleet",
    server: processReport("2 switchyard-brokers", (brokers[0]! + brokers[1]!) / 2),
    fleetBrokers: brokers.map((cpu, i): FleetBrokerReport => ({ ...processReport(`switchyard-broker ${i + 1}`, cpu), address: `127.0.0.1:${9090 + i}`, requests: 50_000 })),
    bench: processReport("bench (clients)", client),
  }) as unknown as RunResult;

const verdicts = (results: RunResult[]) => judgeTargets(results, (scenario) => (scenario === "fleet2" || scenario === "failover" ? "switchyard-fleet" : undefined));

describe("fleet2's targets", () => {
  it("judge the broker of highest CPU per request it carried against one broker's, not the brokers' average", () => {
    // Average 10.5 (within 1.1× of 10), but one broker at 11.5 is not.
    const [brokers, clients] = verdicts([fleet([9.5, 11.5], 8.5), oneBroker]);
    expect(brokers).toMatchObject({ target: "each broker's CPU/req ≤ 1.1× Switchyard", holds: false });
    expect(clients).toMatchObject({ target: "client CPU/req ≤ 1.1× Switchyard", holds: true });
    expect(verdicts([fleet([10.5, 10.9], 9), oneBroker])[0]!.holds).toBe(true);
    expect(verdicts([fleet([10.5, 10.9], 8.9), oneBroker])[1]!.holds).toBe(false);
  });

  it("print each broker's share and CPU beside one broker's, and the clients' beside the one-broker clients'", () => {
    const table = scenarioTable(SCENARIOS.find((s) => s.name === "fleet2")!, [fleet([9.5, 11.5], 8.5), oneBroker], []);
    expect(table).toContain("switchyard-broker 2 (127.0.0.1:9091): 50.0k requests (50%), CPU 11.5 µs per request it carried (1.15× one broker's 10.0)");
    expect(table).toContain("clients (bench process): CPU 8.50 µs/req (1.06× the one-broker clients' 8.00)");
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
