import { describe, expect, it } from "vitest";
import type { PhaseLatency, StoppedPhase } from "../src/peers/mixed-consumer.js";
import { scenarioTable } from "../src/report/table.js";
import { judgeTargets } from "../src/report/targets.js";
import type { RunResult } from "../src/run-result.js";
import { SCENARIOS } from "../src/scenarios.js";

const MIB = 1024 * 1024;

const phase = (requests: number, p50Us: number, p99Us: number): PhaseLatency => ({
  requests,
  errors: 0,
  latency: { p50Us, p99Us, p999Us: p99Us, maxUs: p99Us, meanUs: p50Us },
});

const mixed = (stopped: StoppedPhase | undefined): RunResult =>
  ({
    scenario: "mixed",
    system: "switchyard",
    label: "Switchyard",
    status: "ok",
    requests: 800,
    megabytesPerSecond: 300,
    others: [],
    mixed: { idle: phase(20_000, 200, 400), busy: phase(800, 15_000, 40_000), ...(stopped === undefined ? {} : { stopped }), streamBytes: 1024 * MIB, streamMs: 3500 },
  }) as unknown as RunResult;

const stoppedPhase = (p99Us: number, sentAtStart = 24 * MIB, sentAtEnd = sentAtStart): StoppedPhase => ({ ...phase(19_000, 210, p99Us), sentAtStart, sentAtEnd });

const verdicts = (results: RunResult[]) => judgeTargets(results, (scenario) => (scenario === "mixed" ? "switchyard" : undefined));
const table = (result: RunResult) => scenarioTable(SCENARIOS.find((s) => s.name === "mixed")!, [result], verdicts([result]));

describe("mixed's target", () => {
  it("judges small requests' p99 beside a stream whose reader stopped against 2× the idle p99, not the running stream's", () => {
    // Running stream: 100× idle; stopped: 1.95× idle, within the target.
    expect(verdicts([mixed(stoppedPhase(780))])).toEqual([
      { scenario: "mixed", target: "small requests' p99 beside a stopped stream / alone < 2 ×", holds: true, detail: "1.95 ×" },
    ]);
    expect(verdicts([mixed(stoppedPhase(820))])[0]).toMatchObject({ holds: false, detail: "2.05 ×" });
  });

  it("cannot be judged when the stopped phase was not measured", () => {
    expect(verdicts([mixed(undefined)])[0]).toMatchObject({ holds: undefined });
  });

  it("prints the running and the stopped phases beside idle, and how much the stopped stream sent before and after it stalled", () => {
    const lines = table(mixed(stoppedPhase(600, 24 * MIB, 25 * MIB))).split("\n");
    const header = lines.find((line) => line.includes("running p99"))!;
    const row = lines.find((line) => line.trimStart().startsWith("Switchyard ") && line.includes("×"))!;
    const cells = row.trim().split(/\s{2,}/);
    const named = Object.fromEntries(header.trim().split(/\s{2,}/).map((name, i) => [name, cells[i]]));
    expect(named).toMatchObject({
      "idle p99 µs": "400",
      "running p99 µs": "40.0k",
      "p99 running/idle": "100.00×",
      "stopped p99 µs": "600",
      "p99 stopped/idle": "1.50×",
      "small req idle/running/stopped": "20000/800/19000",
    });
    expect(lines).toContain("  Switchyard: the stream whose reader stopped had sent 24.0 MiB when it stalled, 1.0 MiB more while measured");
    expect(lines).toContain("  ✓ small requests' p99 beside a stopped stream / alone < 2 ×: 1.50 ×");
  });

  it("prints dashes for the stopped phase of a run that did not reach it", () => {
    const row = table(mixed(undefined))
      .split("\n")
      .find((line) => line.includes("100.00×"))!;
    expect(row).toContain("–");
    expect(row).toContain("20000/800/–");
  });
});
