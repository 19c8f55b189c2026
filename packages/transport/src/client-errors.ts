import { SwitchyardError } from "@switchyard/protocol";

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

/**
 * A request's deadline passed on this side. A consumer's `send()` throws one made inside itself,
 * so its stack points at the call that timed out; a provider's `ctx.signal` is aborted with it at
 * the deadline.
 */
export class RequestTimeoutError extends SwitchyardError {
  override name = "RequestTimeoutError";
  declare readonly code: "TIMEOUT";

  constructor(message: string) {
    super("TIMEOUT", message);
  }
}
