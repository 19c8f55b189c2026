import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** What child processes run: the clients' and broker-server's dists (provider and consumer processes, the broker CLI) and the dists they import. */
const SPAWNED = ["protocol", "transport", "client-provider", "client-consumer", "broker-server"];

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

function builtAt(pkg: string): number {
  try {
    return statSync(path.join(packages, pkg, "dist", "index.js")).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The tests import the packages from source (vitest aliases), but provider child processes run
 * plain Node on the built dist, which turbo builds before `test`. Refuse to run without a dist;
 * warn when one is older than its sources (the child would run older code than the test).
 */
export default function setup(): void {
  const missing = SPAWNED.filter((pkg) => builtAt(pkg) === 0);
  if (missing.length > 0) {
    throw new Error(`no dist for ${missing.join(", ")}: run \`pnpm turbo run build --filter=@switchyard/e2e^...\` first`);
  }
  const stale = SPAWNED.filter((pkg) => builtAt(pkg) < newest(path.join(packages, pkg, "src")));
  if (stale.length > 0) {
    console.warn(`e2e: the dist of ${stale.join(", ")} is older than its sources; provider processes run the older build`);
  }
}
