import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "./run-bench.js";

describe("--broker-node-flags", () => {
  let out = "";
  afterAll(async () => {
    if (out !== "") await rm(out, { recursive: true, force: true });
  });

  it("runs the broker under the given Node flags: one Node refuses fails the broker's run with Node's own words", async () => {
    out = await mkdtemp(path.join(tmpdir(), "bench-node-flags-"));
    const { code, output } = await runBench(["--scenario", "single", "--system", "switchyard", "--quick", "--no-progress", "--no-chart", "--out", out, "--broker-node-flags=--no-such-node-flag"]);
    expect(code, output).toBe(1);
    expect(output).toMatch(/Switchyard: failed — switchyard-broker exited before it was ready:.*bad option: --no-such-node-flag/);
  }, 120_000);

  it("takes flags only: a word without a dash (a script, say) is a usage error, and nothing runs", async () => {
    const { code, output } = await runBench(["--scenario", "single", "--system", "switchyard", "--quick", "--broker-node-flags=--trace-gc broker.js"]);
    expect(code, output).toBe(2);
    expect(output).toContain("--broker-node-flags takes Node flags (each starting with -), not broker.js");
    expect(output).not.toContain("Results:");
  });
});
