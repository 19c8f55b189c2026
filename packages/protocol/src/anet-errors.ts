import { SwitchyardError } from "./errors.js";

/** Codes of anet failures (anet's `ErrXxx` names mapped to stable codes; docs/protocol.md §2). */
export type AnetErrorCode =
  | "TIMEOUT"
  | "QUIT"
  | "CLOSING_BROKER"
  | "NO_POOLS_AVAILABLE"
  | "QUEUE_FULL"
  | "CLOSING"
  | "INVALID_MSG_LENGTH"
  | "MAX_LEN_EXCEEDED"
  | "CONNECTION_LOST";

/** Base of every anet error; branch on `code`. */
export class AnetError extends SwitchyardError {
  override name = "AnetError";
  declare readonly code: AnetErrorCode;

  constructor(code: AnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An anet length field below 4: it cannot even hold the task id (`ErrInvalidMsgLength`). */
export class InvalidMsgLengthError extends AnetError {
  override name = "InvalidMsgLengthError";
  declare readonly code: "INVALID_MSG_LENGTH";

  constructor(message: string) {
    super("INVALID_MSG_LENGTH", message);
  }
}

/** A body that does not fit the length field, or the configured maximum (`ErrMaxLenExceeded`). */
export class MaxLenExceededError extends AnetError {
  override name = "MaxLenExceededError";
  declare readonly code: "MAX_LEN_EXCEEDED";

  constructor(message: string) {
    super("MAX_LEN_EXCEEDED", message);
  }
}
