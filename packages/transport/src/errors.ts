import { SwitchyardError } from "@switchyard/protocol";

/**
 * The connection went away (peer closed, reset, or we closed it) while work depended on it.
 * Requests in flight on it fail with this at once; `cause` holds Node's error when there was one.
 */
export class DisconnectedError extends SwitchyardError {
  override name = "DisconnectedError";
  declare readonly code: "DISCONNECTED";

  constructor(message: string, options?: { cause?: unknown }) {
    super("DISCONNECTED", message, options);
  }
}

/** Dialing failed (refused, unreachable, timed out). `cause` holds Node's error (ECONNREFUSED, …). */
export class ConnectError extends SwitchyardError {
  override name = "ConnectError";
  declare readonly code: "CONNECT_FAILED";

  constructor(message: string, options?: { cause?: unknown }) {
    super("CONNECT_FAILED", message, options);
  }
}

/** The peer did not drain its socket within the write timeout; the connection was closed. */
export class SlowPeerError extends SwitchyardError {
  override name = "SlowPeerError";
  declare readonly code: "SLOW_PEER";

  constructor(message: string) {
    super("SLOW_PEER", message);
  }
}

/** Nothing was received for the read timeout; the connection was closed. */
export class IdleTimeoutError extends SwitchyardError {
  override name = "IdleTimeoutError";
  declare readonly code: "IDLE_TIMEOUT";

  constructor(message: string) {
    super("IDLE_TIMEOUT", message);
  }
}

/** Maps a Node socket error to our codes at the transport boundary, keeping it as `cause`. */
export function disconnectedBy(error: unknown, what: string): DisconnectedError {
  if (error instanceof SwitchyardError && error.code === "DISCONNECTED") return error as DisconnectedError;
  const detail = error instanceof Error ? `: ${(error as NodeJS.ErrnoException).code ?? error.message}` : "";
  return new DisconnectedError(`${what}${detail}`, { cause: error });
}


/**
 * The client is closing or closed: a send after `close()` is refused with this, and work still in
 * flight when the close timeout ends is failed with it.
 */
export class ClientClosedError extends SwitchyardError {
  override name = "ClientClosedError";
  declare readonly code: "CLOSED";

  constructor(message: string) {
    super("CLOSED", message);
  }
}


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
