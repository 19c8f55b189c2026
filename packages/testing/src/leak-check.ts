/** Ms a server gets, once a test is over, to see its peers' connections close before it counts a leak. */
export const LEAK_GRACE_MS = 3000;

/**
 * A server a test started that can count the connections it still holds: a `TrackedServer`, or an
 * adapter around a `BrokerServer` (`stats().connections`) or an `AnetServer` (`connections`).
 */
export interface LeakCheckable {
  /** Names it in the failure message ("BrokerServer 127.0.0.1:40123"). */
  readonly name: string;
  /** Connections it holds open now. */
  openConnections(): number;
  /** Says which they are (remote addresses), for the failure message. */
  describeOpen?(): string[];
  /** Closes it, ending whatever it still holds. */
  close(): Promise<void>;
}

/** What fails a test that left connections open. */
export class ConnectionLeakError extends Error {
  override readonly name = "ConnectionLeakError";
  readonly code = "CONNECTION_LEAK";
  /** Connections still open after the grace period. */
  readonly open: number;

  constructor(server: string, open: number, which: string[], graceMs: number) {
    const detail = which.length > 0 ? `: ${which.join(", ")}` : "";
    super(
      `${server} still holds ${open} connection${open === 1 ? "" : "s"} ${graceMs} ms after the test ended${detail}. ` +
        "Close every client the test opens (or destroy it) before the test ends.",
    );
    this.open = open;
  }
}

/**
 * Waits up to `graceMs` for `server` to hold no connection, then closes it. Rejects with a
 * ConnectionLeakError when connections were still open (after closing it all the same), so a test
 * that leaks a client fails instead of leaving a socket to the next test.
 */
export async function closeCheckingLeaks(server: LeakCheckable, graceMs = LEAK_GRACE_MS): Promise<void> {
  const deadline = performance.now() + graceMs;
  while (server.openConnections() > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const open = server.openConnections();
  const which = open > 0 ? (server.describeOpen?.() ?? []) : [];
  await server.close();
  if (open > 0) throw new ConnectionLeakError(server.name, open, which, graceMs);
}

/** A broker as the leak check sees it (a `BrokerServer`, structurally: testing does not depend on broker-server). */
export interface CountsConnections {
  stats(): { connections: number };
  stop(options?: { timeout?: number }): Promise<void>;
  address(): { host: string; port: number };
}

/** Adapts a started BrokerServer to the leak check: its count is `stats().connections`, close is an immediate stop. */
export function brokerLeakCheck(server: CountsConnections): LeakCheckable {
  let name = "BrokerServer (stopped)"; // a test may have stopped it already: stop() again is a no-op
  try {
    const { host, port } = server.address();
    name = `BrokerServer ${host}:${port}`;
  } catch {}
  return {
    name,
    openConnections: () => server.stats().connections,
    close: () => server.stop({ timeout: 0 }),
  };
}

/** Handles that mean a socket, a listening server or a child process is still open. */
const HANDLE_KINDS = ["TCPSocketWrap", "TCPServerWrap", "ProcessWrap"];

/** Counts of this process's open handles of the kinds that mean a leak (`process.getActiveResourcesInfo()`). */
export function openHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (HANDLE_KINDS.includes(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Handles open now beyond `baseline` (from openHandles() before the test), by kind; `{}` when none. */
export function handlesOpenedSince(baseline: Map<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, count] of openHandles()) {
    const more = count - (baseline.get(kind) ?? 0);
    if (more > 0) extra[kind] = more;
  }
  return extra;
}
