import { type Child, startChild } from "../proc/child-process.js";
import { READY_PATTERN } from "../peers/announce.js";
import type { SystemContext } from "./system.js";

/** A started peer child and the JSON it announced when ready. */
export interface Peer<T> {
  child: Child;
  info: T;
}

/** Starts `node dist/peer.js <role> <args>` and waits for its ready line. */
export async function startPeer<T>(
  context: SystemContext,
  role: string,
  args: Record<string, unknown>,
  options: { env?: Record<string, string>; maxOpenFiles?: number; readyTimeoutMs?: number } = {},
): Promise<Peer<T>> {
  const child = await startChild({
    role,
    command: process.execPath,
    args: [context.peerScript, role, JSON.stringify(args)],
    ready: READY_PATTERN,
    ...options,
  });
  return { child, info: JSON.parse(child.ready[1]!) as T };
}
