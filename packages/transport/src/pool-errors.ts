import { SwitchyardError } from "@switchyard/protocol";

/** The pool is closed or closing: waiters are rejected with this, and `get()` after `close()` too. */
export class PoolClosedError extends SwitchyardError {
  override name = "PoolClosedError";
  declare readonly code: "CLOSING";

  constructor(message: string) {
    super("CLOSING", message);
  }
}

/**
 * The caller cancelled the operation through its AbortSignal; `cause` is the signal's reason.
 * Used by `Pool.get` and by every other `{ signal }`-taking operation built on the pool.
 */
export class AbortedError extends SwitchyardError {
  override name = "AbortedError";
  declare readonly code: "ABORTED";

  constructor(message: string, options?: { cause?: unknown }) {
    super("ABORTED", message, options);
  }
}
