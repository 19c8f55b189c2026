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
