import { AnetError } from "@switchyard/protocol";

/** The broker quit: `close()` gave up waiting for this in-flight request after `closeTimeout` (`ErrQuit`). */
export class QuitError extends AnetError {
  override name = "QuitError";
  declare readonly code: "QUIT";

  constructor(message: string) {
    super("QUIT", message);
  }
}

/** The broker is closing or closed: sent after `close()`, or still queued when it began (`ErrClosingBroker`). */
export class ClosingBrokerError extends AnetError {
  override name = "ClosingBrokerError";
  declare readonly code: "CLOSING_BROKER";

  constructor(message: string) {
    super("CLOSING_BROKER", message);
  }
}

/**
 * Every pool is down (its address refused or timed out, and is in backoff) and no connection is
 * open (`ErrNoPoolsAvailable`). `cause` is the last dial error.
 */
export class NoPoolsAvailableError extends AnetError {
  override name = "NoPoolsAvailableError";
  declare readonly code: "NO_POOLS_AVAILABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super("NO_POOLS_AVAILABLE", message, options);
  }
}

/** Every connection slot and the whole queue are taken: refused at once, never after a wait. */
export class QueueFullError extends AnetError {
  override name = "QueueFullError";
  declare readonly code: "QUEUE_FULL";

  constructor(message: string) {
    super("QUEUE_FULL", message);
  }
}

/**
 * The connection carrying this request failed: the server closed or reset it, it sent bytes that
 * break the framing (`cause`: InvalidMsgLengthError, MaxLenExceededError), a response for a task id
 * it was not asked, it stopped reading or answering. Every request in flight on it fails at once
 * with this; whether the server acted on the request is unknown.
 */
export class ConnectionLostError extends AnetError {
  override name = "ConnectionLostError";
  declare readonly code: "CONNECTION_LOST";

  constructor(message: string, options?: { cause?: unknown }) {
    super("CONNECTION_LOST", message, options);
  }
}
