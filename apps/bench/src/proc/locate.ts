import { accessSync, constants, existsSync } from "node:fs";
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

/** dist/peer.js, built beside this bundle. */
export function peerScript(): string {
  return fileURLToPath(new URL("./peer.js", import.meta.url));
}
