import { DEFAULT_STREAM_WINDOW, idToBytes, InvalidArgumentError, MAX_PAYLOAD, MAX_WINDOW, MIN_STREAM_WINDOW, newId } from "@switchyard/protocol";
import type { ServerTlsOptions } from "@switchyard/transport";
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_FRAMES,
  DEFAULT_READ_TIMEOUT,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_WRITE_TIMEOUT,
  MAX_TIMER_MS,
  numberOption,
  type ResolvedServerTls,
  resolveServerTls,
} from "@switchyard/transport/internal";
import { AccessList, type AclDocument } from "./acl/access-list.js";
import { type BrokerLogger, silentLogger } from "./logger.js";
import { type MonitorOptions, type ResolvedMonitorOptions, resolveMonitorOptions } from "./monitor/monitor-options.js";

/** Default TCP port: 9090. */
export const DEFAULT_PORT = 9090;
/** Default interface: loopback only; pass `"0.0.0.0"` (or `"::"`) to serve the network. */
export const DEFAULT_HOST = "127.0.0.1";
/** Default most open sockets; connections beyond it are closed at once and counted. */
export const DEFAULT_MAX_CONNECTIONS = 16_384;
/** Default ms a new connection has to register before it is closed: 5 s (the clients' own connect timeout). */
export const DEFAULT_REGISTRATION_TIMEOUT = 5000;
/**
 * Default most connections one remote address (an IPv4 address, an IPv6 /64) may hold that have not
 * registered yet: 256. Beyond it a new socket from there is closed at once.
 */
export const DEFAULT_MAX_UNREGISTERED_PER_ADDRESS = 256;
/** Default most requests waiting for provider capacity, over all channels: 8192, then OVERLOADED. */
export const DEFAULT_MAX_QUEUED_REQUESTS = 8192;
/** Default most body bytes held for requests waiting for capacity, over all channels: 64 MiB. */
export const DEFAULT_MAX_QUEUED_REQUEST_BYTES = 64 * 1024 * 1024;
/**
 * Default waiting requests a consumer may always hold, whatever its fair share of the wait queue
 * (the queue's own limit still applies): 64.
 */
export const DEFAULT_QUEUE_SHARE_FLOOR = 64;
/** Default body bytes a consumer may always hold in the wait queue, whatever its fair share: 1 MiB (one whole frame). */
export const DEFAULT_QUEUE_SHARE_FLOOR_BYTES = MAX_PAYLOAD;
// The write-queue limits take transport's defaults, shared with the clients (same names):
// 8192 frames, 2048 error frames (past which the broker stops reading the peer), 64 MiB.
/** Default largest assembled request body: 64 MiB, then PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_REQUEST_BYTES = DEFAULT_MAX_BODY_BYTES;
/** Default largest assembled response body: 64 MiB, then PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_RESPONSE_BYTES = DEFAULT_MAX_BODY_BYTES;
/**
 * Default ms a provider has to send anything after the PING it gets when one of its requests passes
 * its deadline: 5 s; then it is closed as dead.
 */
export const DEFAULT_PING_TIMEOUT = 5000;
/** Default ms stop() waits for in-flight requests before failing them with SHUTTING_DOWN: 10 s, the clients' closeTimeout. */
export const DEFAULT_DRAIN_TIMEOUT = DEFAULT_CLOSE_TIMEOUT;
// requestTimeout, readTimeout, writeTimeout and handshakeTimeout take transport's defaults, shared
// with the clients (timeout, readTimeout, writeTimeout) and anet (writeTimeout, handshakeTimeout).
/** Default capacity of a provider whose registration declares none: 64 requests at once (the provider's default concurrency). */
export const DEFAULT_PROVIDER_CAPACITY = 64;

/** Settings of a BrokerServer; every field optional, its default given on it. */
export interface BrokerServerOptions {
  /** TCP port; 0 picks a free one (read it back with `address()`). Default 9090. */
  port?: number;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Most open sockets; beyond it a new socket is closed at once and counted. Default 16384. */
  maxConnections?: number;
  /**
   * Ms a new connection has to send its registration; then it is sent ERROR(NOT_REGISTERED) and
   * closed. Default 5000.
   */
  registrationTimeout?: number;
  /**
   * Most connections not yet registered that one remote address may hold (IPv6 addresses count
   * by their /64); a socket beyond it is closed at once and counted in `refusedConnections`, so
   * sockets that never register cannot take `maxConnections` from everyone. Default 256.
   */
  maxUnregisteredPerAddress?: number;
  /** Most requests waiting for provider capacity (all channels), each consumer a fair share (see queueShareFloor); beyond it OVERLOADED. Default 8192. */
  maxQueuedRequests?: number;
  /** Most body bytes held for waiting requests (all channels); beyond it OVERLOADED. Default 64 MiB. */
  maxQueuedRequestBytes?: number;
  /**
   * Fair shares of the wait queue: a consumer may hold at most max(queueShareFloor,
   * maxQueuedRequests / (n + 1)) waiting requests, n being the consumers holding some (itself
   * included), so one that parks requests leaves room for the others; beyond it OVERLOADED. This is
   * the number it may always hold, whatever its share. Set it to maxQueuedRequests to turn fair
   * shares off. Default 64.
   */
  queueShareFloor?: number;
  /** Body bytes a consumer may always hold in the wait queue; its share is computed as for queueShareFloor, from maxQueuedRequestBytes. Default 1 MiB. */
  queueShareFloorBytes?: number;
  /** Most frames in one connection's write queue. Default 8192. */
  maxWriteQueueFrames?: number;
  /**
   * Error frames waiting for one connection (in its error queue, flushed before the regular one)
   * past which the broker reads nothing more from it until they are written. Errors are never
   * refused: this is what bounds them for a peer that floods without reading. Default 2048.
   */
  maxWriteQueueErrorFrames?: number;
  /** Most bytes queued for one connection, its socket buffer included. Default 64 MiB. */
  maxWriteQueueBytes?: number;
  /** Largest payload of one frame, announced to clients in the registration ack. 256 ..= 1 MiB; default 1 MiB. */
  maxPayloadBytes?: number;
  /** Largest assembled request body; beyond it PAYLOAD_TOO_LARGE. Default 64 MiB. */
  maxRequestBytes?: number;
  /** Largest assembled response body; beyond it PAYLOAD_TOO_LARGE. Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * 1.1: the initial window the broker grants each streamed body it receives (announced in the
   * registration ack, docs/protocol.md §1.20), bytes: what it holds at most per stream and hop.
   * 1 MiB ..= 2^31 − 1; default 4 MiB.
   */
  streamWindowBytes?: number;
  /** Deadline of a request that gives none and whose connection gives none, in ms. Default 5000. */
  requestTimeout?: number;
  /** Ms with nothing received before a connection is closed as idle; 0 disables. Default 120000. */
  readTimeout?: number;
  /**
   * When a request held by a provider passes its deadline, the provider is sent a PING and has this
   * many ms to send anything (its PONG, a response…); silent, it is closed as dead and its requests
   * fail with PROVIDER_GONE, so a frozen provider stops taking requests long before the read
   * timeout. 0 disables. Default 5000.
   */
  pingTimeout?: number;
  /** Ms a peer may leave its socket undrained before it is closed as a slow peer. Default 5000. */
  writeTimeout?: number;
  /** Ms stop() waits for in-flight requests before failing them with SHUTTING_DOWN. Default 10000. */
  drainTimeout?: number;
  /** Capacity of a provider whose registration has no capacity extension. Default 64. */
  defaultProviderCapacity?: number;
  /** Ms a new connection has to send its first byte, and (TLS) as long again for its handshake; then it is closed. Default 10000. */
  handshakeTimeout?: number;
  /** When set and non-empty, a registration must carry one of these tokens, else UNAUTHORIZED. */
  authTokens?: readonly string[];
  /**
   * Serve TLS (1.2 at least): the certificate and key (PEM strings or Buffers), the CA of client
   * certificates, and whether to ask for them (`clientAuth`: "none", "request", "require").
   * Replace them while running with `setTls()`. Default: plaintext.
   */
  tls?: ServerTlsOptions;
  /**
   * Per-channel permissions (what an ACL file holds): a registration no principal matches is
   * refused with UNAUTHORIZED, one outside its principal's rights with FORBIDDEN. Replace it while
   * running with `setAcl()`. Default: none (any registration that passes `authTokens` is let in).
   */
  acl?: AclDocument;
  /** This broker's id (UUID string) sent in registration acks. Default: a random one. */
  serverId?: string;
  /** Where the broker logs; a pino logger fits. Default: silent. */
  logger?: BrokerLogger;
  /** The monitoring HTTP listener (health, Prometheus metrics, JSON status, status page). Default: off. */
  monitor?: MonitorOptions;
}

/** BrokerServerOptions with every default applied and every value checked. */
export interface ResolvedBrokerServerOptions
  extends Required<Omit<BrokerServerOptions, "authTokens" | "serverId" | "logger" | "monitor" | "tls" | "acl">> {
  authTokens: readonly string[];
  tls: ResolvedServerTls | null;
  acl: AccessList | null;
  serverId: Buffer;
  logger: BrokerLogger;
  /** null: no monitoring listener. */
  monitor: ResolvedMonitorOptions | null;
}

/** The options that are whole numbers (sizes, counts, milliseconds). */
export type NumericOption = Exclude<keyof ResolvedBrokerServerOptions, "host" | "authTokens" | "serverId" | "logger" | "monitor" | "tls" | "acl">;

/** Default, allowed range and one-line help of a numeric option. */
export interface NumericOptionSpec {
  default: number;
  min: number;
  max: number;
  help: string;
  /**
   * "ms" for a duration. The option's name carries no unit (every duration of every package is in
   * ms, as the clients' `timeout`), but its CLI flag and environment variable do, where there is
   * no type to say it: `readTimeout` is `--read-timeout-ms` and SWITCHYARD_READ_TIMEOUT_MS.
   */
  unit?: "ms";
}

const MAX_INT = Number.MAX_SAFE_INTEGER;

/** Every numeric option: one table for the server's checks, the CLI's flags and its --help. */
export const NUMERIC_OPTIONS: Readonly<Record<NumericOption, NumericOptionSpec>> = {
  port: { default: DEFAULT_PORT, min: 0, max: 65_535, help: "TCP port; 0 picks a free one" },
  maxConnections: { default: DEFAULT_MAX_CONNECTIONS, min: 1, max: MAX_INT, help: "most open sockets; more are closed at once" },
  registrationTimeout: { default: DEFAULT_REGISTRATION_TIMEOUT, unit: "ms", min: 1, max: MAX_TIMER_MS, help: "close a connection that has not registered this long after connecting" },
  maxUnregisteredPerAddress: { default: DEFAULT_MAX_UNREGISTERED_PER_ADDRESS, min: 1, max: MAX_INT, help: "connections not yet registered per remote address (IPv6: per /64); more are closed at once" },
  maxQueuedRequests: { default: DEFAULT_MAX_QUEUED_REQUESTS, min: 0, max: MAX_INT, help: "requests waiting for provider capacity, each consumer a fair share, then OVERLOADED" },
  maxQueuedRequestBytes: { default: DEFAULT_MAX_QUEUED_REQUEST_BYTES, min: 0, max: MAX_INT, help: "body bytes held for waiting requests, each consumer a fair share, then OVERLOADED" },
  queueShareFloor: { default: DEFAULT_QUEUE_SHARE_FLOOR, min: 0, max: MAX_INT, help: "waiting requests a consumer may hold whatever its fair share of the queue" },
  queueShareFloorBytes: { default: DEFAULT_QUEUE_SHARE_FLOOR_BYTES, min: 0, max: MAX_INT, help: "body bytes a consumer may hold waiting whatever its fair share" },
  maxWriteQueueFrames: { default: DEFAULT_MAX_WRITE_QUEUE_FRAMES, min: 1, max: MAX_INT, help: "frames queued per connection" },
  maxWriteQueueErrorFrames: { default: DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES, min: 1, max: MAX_INT, help: "error frames queued per connection (sent first) past which its reads pause" },
  maxWriteQueueBytes: { default: DEFAULT_MAX_WRITE_QUEUE_BYTES, min: MAX_PAYLOAD, max: MAX_INT, help: "bytes queued per connection, socket buffer included" },
  maxPayloadBytes: { default: MAX_PAYLOAD, min: 256, max: MAX_PAYLOAD, help: "largest frame payload" },
  maxRequestBytes: { default: DEFAULT_MAX_REQUEST_BYTES, min: 0, max: MAX_INT, help: "largest assembled request body, then PAYLOAD_TOO_LARGE" },
  maxResponseBytes: { default: DEFAULT_MAX_RESPONSE_BYTES, min: 0, max: MAX_INT, help: "largest assembled response body, then PAYLOAD_TOO_LARGE" },
  streamWindowBytes: { default: DEFAULT_STREAM_WINDOW, min: MIN_STREAM_WINDOW, max: MAX_WINDOW, help: "initial window per flow-controlled stream (1.1): the most the broker holds of one body" },
  requestTimeout: { default: DEFAULT_REQUEST_TIMEOUT, unit: "ms", min: 1, max: MAX_TIMER_MS, help: "deadline of requests that give none" },
  readTimeout: { default: DEFAULT_READ_TIMEOUT, unit: "ms", min: 0, max: MAX_TIMER_MS, help: "close a connection silent this long (0 = never)" },
  pingTimeout: { default: DEFAULT_PING_TIMEOUT, unit: "ms", min: 0, max: MAX_TIMER_MS, help: "close a provider silent this long after the PING sent when one of its requests times out (0 = never)" },
  writeTimeout: { default: DEFAULT_WRITE_TIMEOUT, unit: "ms", min: 1, max: MAX_TIMER_MS, help: "close a peer that leaves its socket undrained this long" },
  handshakeTimeout: { default: DEFAULT_HANDSHAKE_TIMEOUT, unit: "ms", min: 1, max: MAX_TIMER_MS, help: "close a new connection that has not sent its first byte (TLS: finished its handshake) in this long" },
  drainTimeout: { default: DEFAULT_DRAIN_TIMEOUT, unit: "ms", min: 0, max: MAX_TIMER_MS, help: "on shutdown, wait this long for in-flight requests" },
  defaultProviderCapacity: { default: DEFAULT_PROVIDER_CAPACITY, min: 1, max: 0xffff_ffff, help: "capacity of providers that declare none" },
};

/** Applies defaults and checks every option; a bad value throws InvalidArgumentError naming it. */
export function resolveBrokerServerOptions(options: BrokerServerOptions = {}): ResolvedBrokerServerOptions {
  const numbers = {} as Record<NumericOption, number>;
  for (const name of Object.keys(NUMERIC_OPTIONS) as NumericOption[]) {
    numbers[name] = checkNumericOption(name, options[name] ?? NUMERIC_OPTIONS[name].default);
  }
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== "string" || host.length === 0) throw new InvalidArgumentError(`host must be a non-empty string, got ${JSON.stringify(host)}`);
  const authTokens = options.authTokens ?? [];
  if (!Array.isArray(authTokens) || authTokens.some((token) => typeof token !== "string" || token.length === 0)) {
    throw new InvalidArgumentError("authTokens must be an array of non-empty strings");
  }
  return {
    ...numbers,
    host,
    authTokens: [...authTokens],
    tls: options.tls === undefined ? null : resolveServerTls(options.tls),
    acl: options.acl === undefined ? null : AccessList.from(options.acl),
    serverId: options.serverId === undefined ? newId() : idToBytes(options.serverId, "serverId"),
    logger: options.logger ?? silentLogger,
    monitor: options.monitor === undefined ? null : resolveMonitorOptions(options.monitor),
  };
}

/**
 * Checks one numeric option against its range in NUMERIC_OPTIONS; throws InvalidArgumentError
 * naming it as `label` (the CLI passes its flag name).
 */
export function checkNumericOption(name: NumericOption, value: unknown, label: string = name): number {
  const spec = NUMERIC_OPTIONS[name];
  return numberOption(label, value, spec.default, spec);
}
