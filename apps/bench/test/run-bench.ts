import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The bench package's folder, where dist/main.js is. */
export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the built bench (`node dist/main.js ARGS`) in its folder; resolves with its exit code and everything it printed. */
export function runBench(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["dist/main.js", ...args], { cwd: benchDir, maxBuffer: 64 * 1024 * 1024, timeout: 590_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
  });
}
