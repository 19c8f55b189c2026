export { ConnectionContext, DEFAULT_READ_TIMEOUT } from "./connection-context.js";
export type { ConnectionHandlers, ConnectionLimits, ConnectionOptions, ConnectionState, WireError } from "./connection-context.js";
export {
  SocketWriter,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_ERROR_FRAMES,
  DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
} from "./socket-writer.js";
export type { SocketWriterOptions } from "./socket-writer.js";
export { IN_PLACE_MIN, SocketReader } from "./socket-reader.js";
export type { InPlaceDecoder, ReadSink } from "./socket-reader.js";
export { DisconnectedError, ConnectError, SlowPeerError, IdleTimeoutError, disconnectedBy } from "./errors.js";
export { DeadlineQueue } from "./deadline-queue.js";
export type { DeadlineEntry } from "./deadline-queue.js";
export { Pool, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_POOL_ACQUIRE_TIMEOUT, DEFAULT_POOL_DIAL_TIMEOUT } from "./pool.js";
export type { PoolItem, PoolFactory, PoolOptions, PoolGetOptions } from "./pool.js";
export { PoolClosedError, AbortedError } from "./pool-errors.js";
export {
  BaseClient,
  resolveClientOptions,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_PING_INTERVAL,
  DEFAULT_RECONNECT_DELAY,
  DEFAULT_MAX_RECONNECT_DELAY,
  DEFAULT_MAX_RECONNECT_ATTEMPTS,
  DEFAULT_CLOSE_TIMEOUT,
} from "./base-client.js";
export type { ClientState, ClientOptions, ResolvedClientOptions, ClientRegistration, ClientHooks } from "./base-client.js";
export { ClientClosedError } from "./client-errors.js";
export { dial } from "./dial.js";
export type { DialOptions } from "./dial.js";
export { resolveClientTls, explainTlsFailure, MIN_TLS_VERSION } from "./client-tls.js";
export type { ClientTlsOptions, Pem } from "./client-tls.js";
export { resolveServerTls, peerIdentity, CLIENT_AUTH_MODES } from "./server-tls.js";
export type { ServerTlsOptions, ResolvedServerTls, ClientAuth, CertificateIdentity } from "./server-tls.js";
export { checkBody, sendBody, refusal, REQUEST_BODY_FRAMES, RESPONSE_BODY_FRAMES } from "./body-sender.js";
export type { Body, BodyFrames, BodyRoute, BodyStream } from "./body-sender.js";
export { RequestTable } from "./request-table.js";
export type { RequestTableOptions, TableItem } from "./request-table.js";
export { tickNow } from "./tick-clock.js";
export { StatusFeed } from "./client-status.js";
export { EventFeed, EVENT_BUFFER } from "./event-feed.js";
export type { ClientStatus, ClientTransportStats } from "./client-status.js";
export { IdIndex } from "./id-index.js";
export { hashRequestId, RequestIdTable } from "./request-id-table.js";
export type { IdKeyed } from "./request-id-table.js";
export { MapIndex } from "./key-index.js";
export type { KeyIndex } from "./key-index.js";
export { RequestIds } from "./request-ids.js";
export type { Issued } from "./request-ids.js";
// Re-exported: the broker and the clients match ids by their words.
export { readWord, writeWord } from "@switchyard/protocol";
export { AsyncQueue } from "./async-queue.js";
export { BodyAssembler } from "./body-assembler.js";
export { errorFromPayload } from "./error-frame.js";
export { backoffDelay } from "./backoff.js";
export { parseAddress, formatHostPort, ADDRESS_FORMS } from "./address.js";
export type { HostPort, ParsedAddress, ParseAddressOptions } from "./address.js";
export { rejectWithCallerStack } from "./caller-stack.js";
export { settleWithin } from "./settle-within.js";
export { MAX_TIMER_MS, msOption, numberOption, stringOption } from "./option-checks.js";
export type { NumberBounds } from "./option-checks.js";
export { silentLogger } from "./logger.js";
export type { Logger, LogMethod } from "./logger.js";
export { LinkedQueue } from "./linked-queue.js";
export type { QueueLinks } from "./linked-queue.js";
