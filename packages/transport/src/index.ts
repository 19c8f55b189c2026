/**
 * @switchyard/transport's public API: the errors a Switchyard client or broker can fail with, the
 * generic connection `Pool`, and the option and status types the client packages take and return.
 * Everything here follows semver. The machinery our other packages share (connections, the client
 * base, collections) is in `@switchyard/transport/internal`, which does not.
 */

// The errors a caller catches (each has a stable `code`).
export {
  DisconnectedError,
  ConnectError,
  SlowPeerError,
  IdleTimeoutError,
  ClientClosedError,
  PoolClosedError,
  AbortedError,
} from "./errors.js";

// A bounded pool of reusable connections (or anything closable).
export { Pool } from "./pool/pool.js";
export type { PoolItem, PoolFactory, PoolOptions, PoolGetOptions } from "./pool/pool.js";

// What Consumer and Provider take and report.
export type { ClientOptions, ClientState } from "./client/client-options.js";
export type { ClientStatus, ClientTransportStats } from "./client/client-status.js";
export type { Body, BodyStream } from "./body/body-sender.js";
export type { ClientTlsOptions, Pem } from "./tls/client-tls.js";
export type { ServerTlsOptions, ClientAuth, CertificateIdentity } from "./tls/server-tls.js";
export type { Logger, LogMethod } from "./options/logger.js";
export type { HostPort } from "./options/address.js";
export type { FleetOptions } from "./fleet/fleet.js";
export type { Lookup } from "./fleet/address-list.js";
