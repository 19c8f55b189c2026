import type { AnetErrorCode } from "./anet-errors.js";

/**
 * The error table of docs/protocol.md §1.11 "Errors": one source of truth for names and wire codes.
 * Renaming or renumbering an entry is a breaking change of the wire and of the API.
 */
export const WIRE_ERROR_CODES = {
  PROTOCOL_ERROR: 1,
  NO_PROVIDER: 2,
  TIMEOUT: 3,
  PROVIDER_GONE: 4,
  OVERLOADED: 5,
  UNAUTHORIZED: 6,
  HANDLER_ERROR: 7,
  PAYLOAD_TOO_LARGE: 8,
  CANCELLED: 9,
  NOT_REGISTERED: 10,
  DUPLICATE_CLIENT: 11,
  SHUTTING_DOWN: 12,
  BAD_ROUTE: 13,
  BAD_REGISTRATION: 14,
  FORBIDDEN: 15,
  BAD_HEADERS: 16,
  NOT_SUPPORTED: 17,
  FLOW_CONTROL_ERROR: 18,
} as const;

/** A name from the wire error table, e.g. `"NO_PROVIDER"`. */
export type WireErrorCode = keyof typeof WIRE_ERROR_CODES;

/** Code given to an error body whose numeric code this version does not know. */
export const UNKNOWN_WIRE_ERROR = "UNKNOWN_ERROR";

/** Codes a BrokerError can carry. */
export type BrokerErrorCode = WireErrorCode | typeof UNKNOWN_WIRE_ERROR;

/**
 * Every `code` a Switchyard error can have: what callers branch on. Each code belongs to one class
 * (the table below the wire codes says which); renaming one is a breaking change.
 *
 * - the wire table (`WireErrorCode`) and `UNKNOWN_ERROR`: BrokerError, except PROTOCOL_ERROR
 *   (ProtocolError), TIMEOUT (TimeoutError) and CANCELLED (CancelledError)
 * - INVALID_ARGUMENT: InvalidArgumentError, a caller's mistake
 * - clients and connections: CLOSED (ClientClosedError), ABORTED (AbortedError), DISCONNECTED
 *   (DisconnectedError), CONNECT_FAILED (ConnectError), SLOW_PEER (SlowPeerError), IDLE_TIMEOUT
 *   (IdleTimeoutError); the pool: CLOSING (PoolClosedError)
 * - anet (`AnetErrorCode`): QUIT, CLOSING_BROKER, NO_POOLS_AVAILABLE, QUEUE_FULL,
 *   INVALID_MSG_LENGTH, MAX_LEN_EXCEEDED, CONNECTION_LOST (an AnetError subclass each)
 * - the broker server: LISTEN_FAILED (ListenError), SERVER_CLOSED (ServerClosedError),
 *   NOT_LISTENING (NotListeningError); its CLI's USAGE and FILE_UNUSABLE, its monitor's BAD_QUERY
 */
export type SwitchyardErrorCode =
  | BrokerErrorCode
  | "INVALID_ARGUMENT"
  | "CLOSED"
  | "ABORTED"
  | "DISCONNECTED"
  | "CONNECT_FAILED"
  | "SLOW_PEER"
  | "IDLE_TIMEOUT"
  | "CLOSING"
  | AnetErrorCode
  | "LISTEN_FAILED"
  | "SERVER_CLOSED"
  | "NOT_LISTENING"
  | "USAGE"
  | "FILE_UNUSABLE"
  | "BAD_QUERY";

const NAME_BY_WIRE_CODE = new Map<number, WireErrorCode>(
  Object.entries(WIRE_ERROR_CODES).map(([name, code]) => [code, name as WireErrorCode]),
);

/** The table's name for a numeric wire code, or undefined when the code is unknown. */
export function wireErrorName(wireCode: number): WireErrorCode | undefined {
  return NAME_BY_WIRE_CODE.get(wireCode);
}

/**
 * Base of every Switchyard error. Callers branch on `code`, a stable string; never on `message`.
 */
export class SwitchyardError extends Error {
  override name = "SwitchyardError";
  readonly code: SwitchyardErrorCode;

  constructor(code: SwitchyardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * An error that travels as a broker ERROR frame: `code` is the table's name, `wireCode` its number.
 * A peer's error body with an unknown number decodes to code `UNKNOWN_ERROR`.
 */
export class BrokerError extends SwitchyardError {
  override name = "BrokerError";
  declare readonly code: BrokerErrorCode;
  readonly wireCode: number;

  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown; wireCode?: number }) {
    super(code, message, options);
    this.wireCode = options?.wireCode ?? (code === UNKNOWN_WIRE_ERROR ? 0 : WIRE_ERROR_CODES[code]);
  }

  /** The error a peer sent as `(wireCode, message)`: an instance of the class that owns its code. */
  static fromWire(wireCode: number, message: string): BrokerError {
    const name = wireErrorName(wireCode);
    if (name === "PROTOCOL_ERROR") return new ProtocolError(message);
    if (name === "TIMEOUT") return new TimeoutError(message);
    if (name === "CANCELLED") return new CancelledError(message);
    if (name !== undefined) return new BrokerError(name, message);
    return new BrokerError(UNKNOWN_WIRE_ERROR, message || `peer sent unknown error code ${wireCode}`, { wireCode });
  }
}

/**
 * Bytes that break docs/protocol.md (§1.16): a bad version, an unknown type, an oversized length, a payload too
 * short for its structure. The broker answers it with ERROR(PROTOCOL_ERROR) and closes that connection.
 */
export class ProtocolError extends BrokerError {
  override name = "ProtocolError";
  declare readonly code: "PROTOCOL_ERROR";

  constructor(message: string, options?: { cause?: unknown }) {
    super("PROTOCOL_ERROR", message, options);
  }
}

/**
 * A deadline passed: a request's (a consumer's `send()` throws one made inside itself, so its stack
 * points at the call that timed out; the broker's ERROR(TIMEOUT) arrives as one; a provider's
 * `ctx.signal` is aborted with one past the deadline), an anet request's, or a pool's `get()` or
 * dial. The one class of code TIMEOUT.
 */
export class TimeoutError extends BrokerError {
  override name = "TimeoutError";
  declare readonly code: "TIMEOUT";

  constructor(message: string) {
    super("TIMEOUT", message);
  }
}

/**
 * The consumer gave up on the request (it timed out or was aborted there), or the broker did: the
 * reason a provider's `ctx.signal` is aborted with when the broker sends CANCEL. Nothing more is
 * sent for the request.
 */
export class CancelledError extends BrokerError {
  override name = "CancelledError";
  declare readonly code: "CANCELLED";

  constructor(message: string) {
    super("CANCELLED", message);
  }
}

/** A value handed to an API that it cannot use (not a UUID, a negative size, …). Fix the call. */
export class InvalidArgumentError extends SwitchyardError {
  override name = "InvalidArgumentError";
  declare readonly code: "INVALID_ARGUMENT";

  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_ARGUMENT", message, options);
  }
}
