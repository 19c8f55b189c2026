export { Broker } from "./broker.js";
export type { AnetConnectionEvent, AnetBrokerState, AnetBrokerStats, AnetSendOptions } from "./broker.js";
export type { AnetBrokerOptions } from "./broker-options.js";
export { createPoolList } from "./pool-list.js";
export type { PoolListOptions } from "./pool-list.js";
export { tcpFactory, isSocketUsable } from "./tcp-factory.js";
export type { AddressFactory, TcpFactoryOptions } from "./tcp-factory.js";
export type { ClientTlsOptions, ServerTlsOptions, ClientAuth, Pem } from "@switchyard/transport";
export { createAnetServer } from "./anet-server.js";
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
export { Pool, AbortedError, ConnectError, PoolClosedError } from "@switchyard/transport";
export type { HostPort, Logger, LogMethod, PoolFactory, PoolGetOptions, PoolItem, PoolOptions } from "@switchyard/transport";
