import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { closeAfterTest, onCleanup, runCleanups } from "./cleanup.js";

const fixtureDir = fileURLToPath(new URL("./leak-fixture/", import.meta.url));
const vitestBin = path.join(path.dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

describe("cleanups", () => {
  it("run last registered first, clients before every server check, each even after a failure, and the first failure is thrown", async () => {
    const ran: string[] = [];
    const server = (name: string) => ({ name, openConnections: () => 0, close: async () => void ran.push(name) });
    closeAfterTest(server("first server"));
    onCleanup(() => {
      ran.push("client");
    });
    closeAfterTest(server("restarted server")); // started after the client: still checked after it
    onCleanup(() => {
      ran.push("failing client");
      throw new Error("client cleanup failed");
    });
    await expect(runCleanups()).rejects.toThrow("client cleanup failed");
    expect(ran).toEqual(["failing client", "client", "restarted server", "first server"]);
  });

  it("a test that leaves a connection open to a server closed after it fails, naming the leak; its neighbour passes", async () => {
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [vitestBin, "run", "--root", fixtureDir, "--reporter", "verbose", "--no-color"],
        { cwd: fixtureDir, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), output: stdout + stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/ConnectionLeakError: fixture server still holds 1 connection 200 ms after the test ended/);
    expect(run.output).toMatch(/1 failed \| 1 passed/);
    expect(run.output).toMatch(/✓ .*closes its connection/);
    expect(run.output).toMatch(/× .*leaks a connection/);
  }, 60_000);
});
