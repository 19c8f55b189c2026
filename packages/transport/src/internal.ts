/**
 * `@switchyard/transport/internal`: what Switchyard's own packages (the broker, the clients, anet)
 * share beneath their public APIs — the framed connection, the client base, bodies, collections,
 * option checks. Not covered by semver: it changes with the packages that use it, in any release.
 * Applications use `@switchyard/transport` (and the client packages) instead.
 */

export { BodyAssembler, DEFAULT_MAX_BODY_BYTES } from "./body/body-assembler.js";
export type { BodyRoute } from "./body/body-sender.js";
// Bodies
export { checkBody, RESPONSE_BODY_FRAMES, refusal, sendBody } from "./body/body-sender.js";
export { backoffDelay } from "./client/backoff.js";
export type { ClientHooks, ClientRegistration } from "./client/base-client.js";
// The client base Consumer and Provider extend
export { BaseClient } from "./client/base-client.js";
export { DEFAULT_CLOSE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT } from "./client/client-options.js";
export { EventFeed } from "./client/event-feed.js";
// Collections
export { AsyncQueue } from "./collections/async-queue.js";
export type { DeadlineEntry } from "./collections/deadline-queue.js";
export { DeadlineQueue } from "./collections/deadline-queue.js";
export { IdIndex } from "./collections/id-index.js";
export { LinkedQueue } from "./collections/linked-queue.js";
export type { IdKeyed } from "./collections/request-id-table.js";
export { hashRequestId, RequestIdTable } from "./collections/request-id-table.js";
export type { Issued } from "./collections/request-ids.js";
export { RequestIds } from "./collections/request-ids.js";
export type { TableItem } from "./collections/request-table.js";
export { RequestTable } from "./collections/request-table.js";
export { SlotTable } from "./collections/slot-table.js";
export type { ConnectionHandlers, ConnectionLimits, ConnectionOptions, ConnectionState, WireError } from "./connection/connection-context.js";
// Connections
export { ConnectionContext, DEFAULT_READ_TIMEOUT } from "./connection/connection-context.js";
export type { DialOptions } from "./connection/dial.js";
export { dial } from "./connection/dial.js";
export { errorFromPayload } from "./connection/error-frame.js";
export type { SocketWriterOptions } from "./connection/socket-writer.js";
export {
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
  SocketWriter,
} from "./connection/socket-writer.js";
// Options and small utilities
export { formatHostPort, parseAddress } from "./options/address.js";
export { silentLogger } from "./options/logger.js";
export type { NumberBounds } from "./options/option-checks.js";
export { MAX_TIMER_MS, msOption, numberOption } from "./options/option-checks.js";
export { resolveClientTls } from "./tls/client-tls.js";
export type { ResolvedServerTls } from "./tls/server-tls.js";
export { CLIENT_AUTH_MODES, DEFAULT_HANDSHAKE_TIMEOUT, peerIdentity, resolveServerTls } from "./tls/server-tls.js";
export { rejectWithCallerStack } from "./util/caller-stack.js";
export { settleWithin } from "./util/settle-within.js";
export { tickNow } from "./util/tick-clock.js";
