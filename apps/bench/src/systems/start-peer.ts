import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { READY_PATTERN } from "../peers/announce.js";
import { type Child, startChild } from "../proc/child-process.js";
import type { SystemContext } from "./system.js";

/** A started peer child and the JSON it announced when ready. */
export interface Peer<T> {
  child: Child;
  info: T;
}

/**
 * Starts `node dist/peer.js <role> <args>` and waits for its ready line. With --cpu-prof the peer
 * runs under `node --cpu-prof` and leaves its profile at `peerProfilePath` when it exits.
 */
export async function startPeer<T>(
  context: SystemContext,
  role: string,
  args: Record<string, unknown>,
  options: { env?: Record<string, string>; maxOpenFiles?: number; readyTimeoutMs?: number } = {},
): Promise<Peer<T>> {
  const child = await startChild({
    role,
    command: process.execPath,
    args: [...profileFlags(context), context.peerScript, role, JSON.stringify(args)],
    ready: READY_PATTERN,
    ...options,
  });
  return { child, info: JSON.parse(child.ready[1]!) as T };
}

/**
 * Where --cpu-prof leaves the profile of the peer with `pid` in this run: Node names it
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, in a folder of the run's own.
 */
export function peerProfilePath(context: SystemContext, pid: number): string | undefined {
  if (context.cpuProfileDir === undefined) return undefined;
  const dir = path.join(context.cpuProfileDir, context.runName);
  const file = existsSync(dir) ? readdirSync(dir).find((name) => name.includes(`.${pid}.`)) : undefined;
  return file === undefined ? undefined : path.join(dir, file);
}

function profileFlags(context: SystemContext): string[] {
  if (context.cpuProfileDir === undefined) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${path.join(context.cpuProfileDir, context.runName)}`];
}
