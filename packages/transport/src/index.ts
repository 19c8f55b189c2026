export { ConnectionContext, DEFAULT_READ_TIMEOUT } from "./connection-context.js";
export type { ConnectionHandlers, ConnectionOptions, ConnectionState, WireError } from "./connection-context.js";
export {
  SocketWriter,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_ERROR_FRAMES,
  DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
} from "./socket-writer.js";
export type { SocketWriterOptions } from "./socket-writer.js";
export { DisconnectedError, ConnectError, SlowPeerError, IdleTimeoutError, disconnectedBy } from "./errors.js";
export { DeadlineQueue } from "./deadline-queue.js";
export type { DeadlineEntry } from "./deadline-queue.js";
export { Pool, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_POOL_ACQUIRE_TIMEOUT, DEFAULT_POOL_DIAL_TIMEOUT } from "./pool.js";
export type { PoolItem, PoolFactory, PoolOptions, PoolGetOptions } from "./pool.js";
export { PoolClosedError, PoolTimeoutError, AbortedError } from "./pool-errors.js";
