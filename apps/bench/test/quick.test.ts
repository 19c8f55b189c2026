import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "./run-bench.js";

/*
 * `pnpm bench --quick` as CI runs it: every scenario against every system this machine has, about
 * a second each. It asserts nothing about speed — only that every run completed requests without
 * an error (failover: none but the killed broker's DISCONNECTED), that a system it skipped says why, and that the results and the chart were written.
 * (Turbo runs this after every other package's tests, so it competes with none of them.)
 */

/** Systems that need nothing installed: they must always run. */
const ALWAYS = ["switchyard", "anet", "raw-relay", "raw-echo"];

interface Report {
  skipped: Record<string, string>;
  results: Array<{
    scenario: string;
    system: string;
    status: string;
    reason?: string;
    requests: number;
    errors: number;
    failover?: { unexpected: number; moved: number };
    fleetBrokers?: Array<{ requests: number }>;
  }>;
}

describe("pnpm bench --quick", () => {
  let out = "";
  afterAll(async () => {
    if (out !== "") await rm(out, { recursive: true, force: true });
  });

  it("runs every scenario, each run completing requests without an error, and writes its results and chart", async () => {
    out = await mkdtemp(path.join(tmpdir(), "bench-quick-"));
    const { code, output } = await runBench(["--quick", "--no-progress", "--out", out]);
    expect(code, output).toBe(0);

    const files = await readdir(out);
    const json = files.find((name) => name.endsWith(".json"));
    const svg = files.find((name) => name.endsWith(".svg"));
    expect(json, `no results in ${files.join(", ")}`).toBeDefined();
    expect((await readFile(path.join(out, svg!), "utf8")).trimStart().startsWith("<svg")).toBe(true);

    const report = JSON.parse(await readFile(path.join(out, json!), "utf8")) as Report;
    for (const [system, reason] of Object.entries(report.skipped)) {
      expect(ALWAYS).not.toContain(system);
      expect(reason.length).toBeGreaterThan(0);
    }
    const scenarios = new Set(report.results.map((result) => result.scenario));
    expect([...scenarios].sort()).toEqual(
      ["anet-pipelined", "anet-pool5", "channels10", "concurrent10", "failover", "fleet2", "idle10k", "large1MiB", "mixed", "pipelined256", "single", "stream1GiB", "throughput100"].sort(),
    );
    for (const result of report.results) {
      const name = `${result.scenario}/${result.system}`;
      if (result.status === "skipped") {
        expect(report.skipped[result.system], name).toBeDefined();
        continue;
      }
      expect(result.status, `${name}: ${result.reason}`).toBe("ok");
      if (result.scenario === "failover") {
        // A broker is killed under load: its requests in flight fail with DISCONNECTED, and nothing else fails.
        expect(result.failover?.unexpected, name).toBe(0);
        expect(result.failover?.moved, name).toBeGreaterThan(0);
      } else expect(result.errors, name).toBe(0);
      if (result.scenario !== "idle10k") expect(result.requests, name).toBeGreaterThan(0);
    }
    // fleet2's brokers, of the fleet and of the sharded comparison, each carried a share.
    for (const system of ["switchyard-fleet", "switchyard-sharded"]) {
      const brokers = report.results.find((result) => result.scenario === "fleet2" && result.system === system)?.fleetBrokers ?? [];
      expect(brokers.map((broker) => broker.requests > 0), `fleet2/${system}`).toEqual([true, true]);
    }
  }, 600_000);
});
