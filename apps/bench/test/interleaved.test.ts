import { setImmediate as tick } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runClosedLoop } from "../src/load/closed-loop.js";
import { LatencyHistogram } from "../src/load/latency-histogram.js";
import { ProcessMeter } from "../src/proc/process-meter.js";
import { runInterleaved } from "../src/run-load.js";
import { SCENARIOS } from "../src/scenarios.js";
import type { BenchSystem, SystemContext, SystemName } from "../src/systems/system.js";

const context = { runName: "test", requestTimeoutMs: 1000, brokerNodeFlags: [] } as unknown as SystemContext;
const scenario = { ...SCENARIOS.find((s) => s.name === "fleet2")!, shape: { connections: 2, inflight: 1, payloadBytes: 8, channels: 1 } };

/** A system of echo lanes in this process; `log` records which system answered, in order, and `setUp` which was set up. */
function echoSystem(name: SystemName, log: string[], failing = false, setUp: string[] = []): BenchSystem {
  return {
    name,
    label: name,
    unavailable: async () => undefined,
    prepare: async () => {
      setUp.push(name);
      if (failing) throw new Error(`${name} could not start`);
      const lane = async (body: Buffer) => {
        await tick();
        log.push(name);
        return body;
      };
      return { lanes: [lane, lane], server: { role: name, pid: process.pid }, others: [], close: async () => {} };
    },
  };
}

function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe("an interleaved run", () => {
  it("measures each system in windows taken in turns, in an order that rotates, over two setups in reverse order, and sums its windows", async () => {
    const log: string[] = [];
    const setUp: string[] = [];
    const systems = (["switchyard-fleet", "switchyard", "switchyard-sharded"] as const).map((name) => ({ system: echoSystem(name, log, false, setUp), context }));
    const results = await runInterleaved(scenario, systems, { warmupMs: 20, durationMs: 4000 }, () => {});
    expect(results.map((r) => [r.system, r.status, r.windows])).toEqual([
      ["switchyard-fleet", "ok", 4],
      ["switchyard", "ok", 4],
      ["switchyard-sharded", "ok", 4],
    ]);
    for (const result of results) {
      expect(result.elapsedMs).toBeGreaterThan(3900);
      expect(result.elapsedMs).toBeLessThan(4400);
      expect(result.requests).toBeGreaterThan(0);
      expect(result.server?.cpuMs).toBeGreaterThan(0);
    }
    // Four rounds: two in the first setup, two in the second, set up in the reverse order.
    expect(setUp).toEqual(["switchyard-fleet", "switchyard", "switchyard-sharded", "switchyard-sharded", "switchyard", "switchyard-fleet"]);
    // The turns, collapsed to who ran: in each setup round 1 fleet, one, sharded; round 2 from one.
    const turns = log.filter((name, i) => i === 0 || log[i - 1] !== name);
    const setupTurns = ["switchyard-fleet", "switchyard", "switchyard-sharded", "switchyard", "switchyard-sharded", "switchyard-fleet"];
    // (the second setup starts with the fleet, as the first ended: collapsed into one)
    expect(turns).toEqual([...setupTurns, ...setupTurns.slice(1)]);
  }, 20_000);

  it("fails a system that cannot be set up, alone: the others run", async () => {
    const log: string[] = [];
    const results = await runInterleaved(
      scenario,
      [
        { system: echoSystem("switchyard-fleet", log), context },
        { system: echoSystem("switchyard-sharded", log, true), context },
      ],
      { warmupMs: 10, durationMs: 500 },
      () => {},
    );
    expect(results.map((r) => [r.system, r.status])).toEqual([
      ["switchyard-fleet", "ok"],
      ["switchyard-sharded", "failed"],
    ]);
    expect(results[1]!.reason).toBe("switchyard-sharded could not start");
    expect(new Set(log)).toEqual(new Set(["switchyard-fleet"]));
  });
});

describe("a process meter over several windows", () => {
  it("adds up what was spent inside the windows and nothing between them", () => {
    const meter = new ProcessMeter([{ role: "me", pid: process.pid }]);
    meter.start();
    burn(60);
    meter.stop();
    burn(400); // between the windows: not counted
    meter.start();
    burn(60);
    meter.stop();
    const cpuMs = meter.report(process.pid, 1)!.cpuMs;
    expect(cpuMs).toBeGreaterThanOrEqual(100); // two windows of 60 ms, at the clock's 10 ms grain
    expect(cpuMs).toBeLessThan(300);
  });
});

describe("a closed loop recording into a given histogram", () => {
  it("counts each window's requests alone while the histogram holds them all", async () => {
    const histogram = new LatencyHistogram();
    const lane = async (body: Buffer) => {
      await tick();
      return body;
    };
    const first = await runClosedLoop([lane], Buffer.from("x"), { warmupMs: 0, durationMs: 50, histogram });
    const second = await runClosedLoop([lane], Buffer.from("x"), { warmupMs: 0, durationMs: 50, histogram });
    expect(first.requests).toBeGreaterThan(0);
    expect(second.requests).toBeGreaterThan(0);
    expect(histogram.count).toBe(first.requests + second.requests);
  });
});
