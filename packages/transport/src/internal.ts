/**
 * `@switchyard/transport/internal`: what Switchyard's own packages (the broker, the clients, anet)
 * share beneath their public APIs — the framed connection, the client base, bodies, collections,
 * option checks. Not covered by semver: it changes with the packages that use it, in any release.
 * Applications use `@switchyard/transport` (and the client packages) instead.
 */

// Connections: one FramedConnection, its wire format the strategy (BrokerFrames here, AnetFrames in anet-broker)
export { FramedConnection, DEFAULT_READ_TIMEOUT } from "./connection/framed-connection.js";
export type { ConnectionLimits, ConnectionState, FramedConnectionHandlers, FramedConnectionOptions } from "./connection/framed-connection.js";
export type { WireFormat } from "./connection/wire-format.js";
export { BrokerFrames } from "./connection/broker-frames.js";
export { ConnectionContext } from "./connection/connection-context.js";
export type { ConnectionHandlers, ConnectionOptions, WireError } from "./connection/connection-context.js";
export {
  SocketWriter,
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
} from "./connection/socket-writer.js";
export type { SocketWriterOptions } from "./connection/socket-writer.js";
export type { InPlaceDecoder } from "./connection/socket-reader.js";
export { dial } from "./connection/dial.js";
export type { DialOptions } from "./connection/dial.js";
export { errorFromPayload } from "./connection/error-frame.js";
export { resolveClientTls } from "./tls/client-tls.js";
export { resolveServerTls, peerIdentity, CLIENT_AUTH_MODES, DEFAULT_HANDSHAKE_TIMEOUT } from "./tls/server-tls.js";
export type { ResolvedServerTls } from "./tls/server-tls.js";

// The client base Consumer and Provider extend
export { BaseClient } from "./client/base-client.js";
export type { ClientHooks, ClientRegistration } from "./client/base-client.js";
export { DEFAULT_CLOSE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT } from "./client/client-options.js";
export { backoffDelay } from "./client/backoff.js";
export { EventFeed } from "./client/event-feed.js";

// Bodies
export { checkBody, sendBody, refusal, RESPONSE_BODY_FRAMES, STREAM_HIGH_WATER } from "./body/body-sender.js";
export type { BodyRoute } from "./body/body-sender.js";
export { BodyAssembler, DEFAULT_MAX_BODY_BYTES } from "./body/body-assembler.js";

// Flow control (1.1): a stream's credit as its sender sees it, and its window as its receiver does
export { OutboundCredit } from "./flow/outbound-credit.js";
export { InboundWindow } from "./flow/inbound-window.js";
export { applyCredit } from "./flow/apply-credit.js";

// Collections
export { AsyncQueue } from "./collections/async-queue.js";
export { LinkedQueue } from "./collections/linked-queue.js";
export type { QueueLinks } from "./collections/linked-queue.js";
export { DeadlineQueue } from "./collections/deadline-queue.js";
export type { DeadlineEntry } from "./collections/deadline-queue.js";
export { SlotTable } from "./collections/slot-table.js";
export { RequestIds } from "./collections/request-ids.js";
export type { Issued } from "./collections/request-ids.js";
export { hashRequestId, RequestIdTable } from "./collections/request-id-table.js";
export type { IdKeyed } from "./collections/request-id-table.js";
export { RequestTable } from "./collections/request-table.js";
export type { RequestIndex, TableItem } from "./collections/request-table.js";

// Options and small utilities
export { parseAddress, formatHostPort } from "./options/address.js";
export { MAX_TIMER_MS, msOption, numberOption } from "./options/option-checks.js";
export type { NumberBounds } from "./options/option-checks.js";
export { silentLogger } from "./options/logger.js";
export { rejectWithCallerStack } from "./util/caller-stack.js";
export { settleWithin } from "./util/settle-within.js";
export { tickNow } from "./util/tick-clock.js";
// Tracing, when @opentelemetry/api is installed
export type { RequestSpan } from "./tracing/tracing.js";
export { loadTracing, Tracing } from "./tracing/tracing.js";
// A client's connections to a fleet of brokers
export type { BrokerAddress, Lookup } from "./fleet/address-list.js";
export { parseAddressList, resolveAddressList } from "./fleet/address-list.js";
export type { FleetLink, FleetOptions, FleetRegistration } from "./fleet/fleet.js";
export { DEFAULT_RESOLVE_INTERVAL, Fleet } from "./fleet/fleet.js";
export { rendezvousWeight } from "./fleet/rendezvous.js";
