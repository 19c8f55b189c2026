export { Broker } from "./broker.js";
export type { AnetConnectionEvent, BrokerState, BrokerStats, SendOptions } from "./broker.js";
export {
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_LENGTH_SIZE,
  DEFAULT_MAX_INFLIGHT_PER_CONN,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_READ_TIMEOUT,
  DEFAULT_SEND_TIMEOUT,
  DEFAULT_WORKERS,
  DEFAULT_WRITE_TIMEOUT,
} from "./broker-options.js";
export type { BrokerOptions } from "./broker-options.js";
export { createPoolList } from "./pool-list.js";
export type { PoolListOptions } from "./pool-list.js";
export { tcpFactory, isSocketUsable, DEFAULT_KEEPALIVE_INITIAL_DELAY } from "./tcp-factory.js";
export type { AddressFactory, TcpFactoryOptions } from "./tcp-factory.js";
export type { ClientTlsOptions, ServerTlsOptions, ClientAuth, Pem } from "@switchyard/transport";
export { createAnetServer, DEFAULT_SERVER_CONCURRENCY, DEFAULT_HANDSHAKE_TIMEOUT } from "./anet-server.js";
export type { AnetHandler, AnetRequestInfo, AnetServer, AnetServerOptions } from "./anet-server.js";
export {
  ClosingBrokerError,
  ConnectionLostError,
  NoPoolsAvailableError,
  QueueFullError,
  QuitError,
} from "./errors.js";
// Re-exported so that users of anet need this package only.
export { AnetError, InvalidMsgLengthError, MaxLenExceededError, TimeoutError, MAX_ANET_BODY_U16 } from "@switchyard/protocol";
export type { AnetErrorCode, AnetLengthSize, SwitchyardErrorCode } from "@switchyard/protocol";
export {
  Pool,
  AbortedError,
  ConnectError,
  PoolClosedError,
  DEFAULT_POOL_ACQUIRE_TIMEOUT,
  DEFAULT_POOL_DIAL_TIMEOUT,
  DEFAULT_POOL_IDLE_TIMEOUT,
} from "@switchyard/transport";
export type { HostPort, Logger, LogMethod, PoolFactory, PoolGetOptions, PoolItem, PoolOptions } from "@switchyard/transport";
