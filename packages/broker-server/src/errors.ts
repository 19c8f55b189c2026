import { BrokerError, CancelledError, ProtocolError, SwitchyardError, TimeoutError, type WireErrorCode } from "@switchyard/protocol";

/** The server could not listen (port in use, permission denied, …); `cause` holds Node's error. */
export class ListenError extends SwitchyardError {
  override name = "ListenError";
  declare readonly code: "LISTEN_FAILED";

  constructor(message: string, options?: { cause?: unknown }) {
    super("LISTEN_FAILED", message, options);
  }
}

/** `start()` after `stop()`: a stopped BrokerServer cannot be started again; create a new one. */
export class ServerClosedError extends SwitchyardError {
  override name = "ServerClosedError";
  declare readonly code: "SERVER_CLOSED";

  constructor(message: string) {
    super("SERVER_CLOSED", message);
  }
}

/** `address()` before `start()` resolved or after `stop()`. */
export class NotListeningError extends SwitchyardError {
  override name = "NotListeningError";
  declare readonly code: "NOT_LISTENING";

  constructor(message: string) {
    super("NOT_LISTENING", message);
  }
}

/** The refusal of a registration whose clientId is registered by another principal (docs/protocol.md §1.5). */
export const CLIENT_ID_OF_ANOTHER = new BrokerError(
  "DUPLICATE_CLIENT",
  "registration refused: this clientId is registered by another principal (auth token or client certificate); use a clientId of your own",
);

/**
 * The errors the broker itself sends, built once: they only travel as (wireCode, message), so
 * reusing one object per outcome keeps failure paths free of per-request allocations.
 */
export const WIRE: Readonly<Record<WireErrorCode, BrokerError>> = {
  PROTOCOL_ERROR: new ProtocolError("malformed frame"),
  NO_PROVIDER: new BrokerError("NO_PROVIDER", "no provider is registered on this channel"),
  TIMEOUT: new TimeoutError("the request's deadline passed before a response"),
  PROVIDER_GONE: new BrokerError("PROVIDER_GONE", "the provider disconnected while holding the request"),
  OVERLOADED: new BrokerError("OVERLOADED", "a connection's write queue at the broker is full (maxWriteQueueFrames or maxWriteQueueBytes); the request was ended"),
  UNAUTHORIZED: new BrokerError("UNAUTHORIZED", "registration refused: missing or unknown auth token"),
  HANDLER_ERROR: new BrokerError("HANDLER_ERROR", "the provider sent an unreadable error body"),
  PAYLOAD_TOO_LARGE: new BrokerError("PAYLOAD_TOO_LARGE", "the assembled body is over the broker's limit"),
  CANCELLED: new CancelledError("the consumer cancelled"),
  NOT_REGISTERED: new BrokerError("NOT_REGISTERED", "the first frame of a connection must be START|REGISTRATION"),
  // never a refusal now: sent to the old connection when a new registration takes its clientId over
  DUPLICATE_CLIENT: new BrokerError("DUPLICATE_CLIENT", "another connection registered with this clientId and took over; this connection is closed"),
  SHUTTING_DOWN: new BrokerError("SHUTTING_DOWN", "the broker is draining and takes no new work"),
  BAD_ROUTE: new BrokerError("BAD_ROUTE", "response refused: this provider does not hold that request (or its routing header differs)"),
  BAD_REGISTRATION: new BrokerError("BAD_REGISTRATION", "registration payload cannot be read"),
  FORBIDDEN: new BrokerError("FORBIDDEN", "the ACL does not allow this registration"),
  BAD_HEADERS: new BrokerError("BAD_HEADERS", "malformed header block"),
  NOT_SUPPORTED: new BrokerError(
    "NOT_SUPPORTED",
    "this request has headers, but the provider it was routed to speaks protocol 1.0, which has none: upgrade the channel's providers, or send without headers",
  ),
  FLOW_CONTROL_ERROR: new BrokerError("FLOW_CONTROL_ERROR", "a peer broke flow control on this stream: body bytes past its credit, or credit past 2^31 - 1"),
};

/**
 * The OVERLOADED refusals of the wait queue, one per limit, each naming which one was full (built
 * once, like WIRE). The consumer's shares are its fair shares (BrokerServerOptions.queueShareFloor).
 */
export const WAIT_QUEUE_FULL = {
  requests: new BrokerError("OVERLOADED", "the broker's wait queue is full (maxQueuedRequests): every provider of the channel is busy; retry later"),
  bytes: new BrokerError("OVERLOADED", "the body bytes held for waiting requests are at the broker's limit (maxQueuedRequestBytes); retry later"),
  consumerRequests: new BrokerError(
    "OVERLOADED",
    "this consumer holds its fair share of the broker's wait queue (requests): wait for some of its requests to end before sending more",
  ),
  consumerBytes: new BrokerError(
    "OVERLOADED",
    "this consumer holds its fair share of the body bytes of the broker's wait queue: wait for some of its requests to end before sending more",
  ),
} as const;
