import type { WireErrorCode } from "@switchyard/protocol";

/** The largest write queue over all open connections, right now. */
export interface WriteQueueStats {
  /** Most frames waiting in one connection's regular queue. */
  maxFrames: number;
  /** Most frames waiting in one connection's error queue. */
  maxErrorFrames: number;
  /** Most bytes waiting for one connection (its socket buffer included). */
  maxBytes: number;
}

/**
 * A snapshot of the broker, from `BrokerServer.stats()`: gauges (now) and counters (since start).
 * Memory bounds are asserted on these: `queued`, `queuedRequestBytes` and `writeQueue` never pass
 * their configured limits whatever the peers do.
 */
export interface BrokerStats {
  /** Open sockets, registered or not. */
  connections: number;
  /** Registered consumers. */
  consumers: number;
  /** Registered providers. */
  providers: number;
  /** Channels with at least one member or waiting request. */
  channels: number;
  /** Requests held by providers now. */
  inFlight: number;
  /** Requests waiting for provider capacity now. */
  queued: number;
  /** Body bytes held for waiting requests now. */
  queuedRequestBytes: number;
  /**
   * Body bytes of flow-controlled streams (1.1, docs/protocol.md §1.20) received and not yet
   * forwarded because the receiver has no credit left (or, speaking 1.0, a full socket): at most
   * one stream window per stream and direction.
   */
  streamHeldBytes: number;
  /** Largest write queue over the open connections now. */
  writeQueue: WriteQueueStats;
  /** Requests accepted since start. */
  requests: number;
  /** Requests completed by their provider (response or provider ERROR delivered) since start. */
  completed: number;
  /** Requests refused or aborted with OVERLOADED since start (same as errorsSent.OVERLOADED). */
  overloaded: number;
  /**
   * Sockets closed at once: maxConnections was reached, their address held its maxUnregisteredPerAddress
   * connections not yet registered, or the broker was stopping.
   */
  refusedConnections: number;
  /** Frames that could not be queued and were not a request's outcome (PONG, PING, BAD_ROUTE; a CANCEL only to a connection already closing). */
  droppedFrames: number;
  /** Connections the broker closed because the peer left its socket undrained (SLOW_PEER) since start. */
  slowPeersClosed: number;
  /** Connections the broker closed because nothing arrived within readTimeout (IDLE_TIMEOUT) since start. */
  idleConnectionsClosed: number;
  /** Bytes received from and sent to clients since start, open and closed connections together. */
  bytesReceived: number;
  bytesSent: number;
  /** ERRORs the broker itself sent (not forwarded from providers), by code, since start. */
  errorsSent: Record<WireErrorCode, number>;
}
