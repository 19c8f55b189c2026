import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The workspace root: the nearest directory above `start` holding pnpm-workspace.yaml. */
export function findRepoRoot(start = process.cwd()): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

/** The first executable called `name` on PATH (plus the sbin directories a root install uses). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/**
 * The `switchyard-broker` CLI: on PATH when run through pnpm, else the repo root's
 * node_modules/.bin (the root package depends on @switchyard/broker-server).
 */
export function findBrokerCli(repoRoot: string): string | undefined {
  const local = path.join(repoRoot, "node_modules", ".bin", "switchyard-broker");
  return findExecutable("switchyard-broker") ?? (existsSync(local) ? local : undefined);
}

/**
 * The script behind the CLI (the package's `bin`), resolved from the repo root, for running it
 * under node flags that NODE_OPTIONS refuses (--cpu-prof).
 */
export function findBrokerScript(repoRoot: string): string | undefined {
  try {
    const packageFile = createRequire(path.join(repoRoot, "package.json")).resolve("@switchyard/broker-server/package.json");
    const { bin } = JSON.parse(readFileSync(packageFile, "utf8")) as { bin?: string | Record<string, string> };
    const relative = typeof bin === "string" ? bin : bin?.["switchyard-broker"];
    return relative === undefined ? undefined : path.resolve(path.dirname(packageFile), relative);
  } catch {
    return undefined;
  }
}

/** dist/peer.js, built beside this bundle. */
export function peerScript(): string {
  return fileURLToPath(new URL("./peer.js", import.meta.url));
}
