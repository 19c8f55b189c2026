import { BrokerError } from "@switchyard/protocol";

/**
 * The consumer gave up on the request (it timed out or was aborted there): the reason a handler's
 * `ctx.signal` is aborted with when the broker sends CANCEL. Nothing more is sent for the request.
 */
export class CancelledError extends BrokerError {
  override name = "CancelledError";
  declare readonly code: "CANCELLED";

  constructor(message: string) {
    super("CANCELLED", message);
  }
}
