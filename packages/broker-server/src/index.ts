export { BrokerServer } from "./broker-server.js";
export type { BrokerServerState, StartOptions, StopOptions } from "./broker-server.js";
export {
  resolveBrokerServerOptions,
  NUMERIC_OPTIONS,
  DEFAULT_PORT,
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REGISTRATION_TIMEOUT_MS,
  DEFAULT_MAX_UNREGISTERED_PER_ADDRESS,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_MAX_QUEUED_REQUEST_BYTES,
  DEFAULT_QUEUE_SHARE_FLOOR,
  DEFAULT_QUEUE_SHARE_FLOOR_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_WRITE_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_PROVIDER_CAPACITY,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
} from "./options.js";
export type { AclDocument, AclPrincipal } from "./acl/access-list.js";
export type { ServerTlsOptions, ClientAuth, Pem } from "@switchyard/transport";
export type { BrokerServerOptions, ResolvedBrokerServerOptions } from "./options.js";
export { DEFAULT_MONITOR_HOST, DEFAULT_MONITOR_PORT } from "./monitor/monitor-options.js";
export type { MonitorOptions, ResolvedMonitorOptions } from "./monitor/monitor-options.js";
export type { BrokerStats, WriteQueueStats } from "./stats.js";
export type { BrokerLogger, LogMethod } from "./logger.js";
export { silentLogger } from "./logger.js";
export { ListenError, NotListeningError, ServerClosedError } from "./errors.js";
export { BrokerError, InvalidArgumentError } from "@switchyard/protocol";
export type { BrokerErrorCode, SwitchyardErrorCode, WireErrorCode } from "@switchyard/protocol";
