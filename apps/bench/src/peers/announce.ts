/** The line a peer child prints on stdout once it serves; the parent waits for it. */
export const READY_PREFIX = "BENCH-PEER-READY ";

/** A pattern matching the ready line; group 1 is its JSON. */
export const READY_PATTERN = /^BENCH-PEER-READY (.*)$/;

/** Tells the parent this peer is ready, with whatever it needs to know (ports, endpoints). */
export function announceReady(info: Record<string, unknown>): void {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
}

/**
 * Ends this peer when its parent goes away: the bench holds our stdin open, so its end means the
 * bench exited, however abruptly, and no peer outlives a run.
 */
export function exitWithParent(onExit: () => void | Promise<void> = () => {}): void {
  const quit = () => {
    Promise.resolve(onExit()).finally(() => process.exit(0));
  };
  process.stdin.on("end", quit);
  process.stdin.on("error", quit);
  process.stdin.resume();
  process.on("SIGTERM", quit);
}
