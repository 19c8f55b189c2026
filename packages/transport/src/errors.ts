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
