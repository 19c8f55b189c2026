import { idToString, Role } from "@switchyard/protocol";
import type { Peer } from "./peer.js";

/** Default number of recently closed connections remembered for the monitor: 100. */
export const DEFAULT_CLOSED_CONNECTIONS_KEPT = 100;

/** A connection that has closed, as the monitor's /connections lists it. */
export interface ClosedConnection {
  id: number;
  role: "consumer" | "provider" | "unregistered";
  clientName: string;
  clientId: string | null;
  channel: string | null;
  remoteAddress: string;
  /** Date.now() of accept and close. */
  connectedAt: number;
  closedAt: number;
  /** Why: SLOW_PEER, IDLE_TIMEOUT, PROTOCOL_ERROR, DISCONNECTED, … or CLOSED for a clean close. */
  reason: string;
  message: string;
}

/** Who a connection is, as the monitor lists it (open or closed). */
export function identityOf(peer: Peer): Pick<ClosedConnection, "id" | "role" | "clientName" | "clientId" | "channel" | "remoteAddress"> {
  return {
    id: peer.ctx.id,
    role: peer.role === 0 ? "unregistered" : peer.role === Role.CONSUMER ? "consumer" : "provider",
    clientName: peer.clientName,
    clientId: peer.role === 0 ? null : idToString(peer.clientId),
    channel: peer.channel?.id ?? null,
    remoteAddress: peer.ctx.remoteAddress,
  };
}

/**
 * What the broker remembers of connections that have gone: totals by reason, the bytes they moved
 * (so byte counters do not drop when a connection closes), and the last `kept` closes in a ring.
 *
 *   ring: [ c5 c6 c7 c2 c3 c4 ]   next = 3: c2 is overwritten by the next close; newest is c7
 */
export class ClosedConnections {
  readonly #ring: ClosedConnection[] = [];
  readonly #kept: number;
  #next = 0;
  /** Closes by reason since start. */
  readonly byReason: Record<string, number> = {};
  /** Bytes received and sent by connections that have closed. */
  bytesRead = 0;
  bytesWritten = 0;

  constructor(kept: number = DEFAULT_CLOSED_CONNECTIONS_KEPT) {
    this.#kept = kept;
  }

  /** Records a close; `error` is the ConnectionContext's reason (undefined: closed cleanly). */
  record(peer: Peer, error: Error | undefined): ClosedConnection {
    const ctx = peer.ctx;
    this.bytesRead += ctx.bytesRead;
    this.bytesWritten += ctx.bytesWritten;
    const reason = error === undefined ? "CLOSED" : ((error as { code?: string }).code ?? error.name);
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    const entry: ClosedConnection = {
      ...identityOf(peer),
      connectedAt: peer.connectedAt,
      closedAt: Date.now(),
      reason,
      message: error?.message ?? "closed",
    };
    if (this.#ring.length < this.#kept) this.#ring.push(entry);
    else this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#kept;
    return entry;
  }

  /** Closes by a reason since start. */
  count(reason: string): number {
    return this.byReason[reason] ?? 0;
  }

  /** The remembered closes, newest first. */
  recent(): ClosedConnection[] {
    const ring = this.#ring;
    const out: ClosedConnection[] = [];
    for (let i = 1; i <= ring.length; i++) out.push(ring[(this.#next - i + ring.length * 2) % ring.length]!);
    return out;
  }
}
