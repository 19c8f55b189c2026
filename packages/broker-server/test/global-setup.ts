import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(path.join(packageDir, "dist", "cli.js")).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The CLI tests spawn bin/switchyard-broker.js, which runs dist/cli.js. turbo's `test` task only
 * builds dependencies, so build this package here when its dist is missing or older than src.
 */
export default function setup(): void {
  if (builtAt() >= newestSource(path.join(packageDir, "src"))) return;
  execFileSync("pnpm", ["exec", "tsup"], { cwd: packageDir, stdio: "ignore" });
}
