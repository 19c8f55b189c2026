import { idToBytes, MAX_TIMEOUT_MS, newIdString } from "@switchyard/protocol";
import { type ConnectionLimits, DEFAULT_READ_TIMEOUT } from "../connection/framed-connection.js";
import {
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES,
  DEFAULT_MAX_WRITE_QUEUE_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
} from "../connection/socket-writer.js";
import { type Logger, silentLogger } from "../options/logger.js";
import { MAX_TIMER_MS, numberOption, stringOption } from "../options/option-checks.js";
import type { ClientTlsOptions } from "../tls/client-tls.js";
import { DEFAULT_MAX_RECONNECT_DELAY, DEFAULT_RECONNECT_DELAY } from "./backoff.js";

/** Default request deadline, ms: 5 s. Also sent in the registration as the connection's default. */
export const DEFAULT_REQUEST_TIMEOUT = 5000;
/** Default ms to dial and register before connecting fails with CONNECT_FAILED: 5 s. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;
/** Default ms between PINGs on a connection that sent or received nothing in that time: 30 s. */
export const DEFAULT_PING_INTERVAL = 30_000;
/** Default reconnect attempts after the broker goes away before giving up: unlimited. */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = Number.POSITIVE_INFINITY;
/** Default ms close() waits for work in flight before failing what is left with CLOSED: 10 s. */
export const DEFAULT_CLOSE_TIMEOUT = 10_000;

/**
 * Where a client is:
 *
 *   connecting ──► open ──(broker lost)──► reconnecting ──► open …
 *       │            │                          │
 *       └─(failed)───┴──────── close() ──► closing ──► closed   (also: reconnect attempts exhausted)
 *
 * Only `open` carries requests; sends in any other state fail at once.
 */
export type ClientState = "connecting" | "open" | "reconnecting" | "closing" | "closed";

/** Options shared by Consumer and Provider; every field optional, its default given on it. */
export interface ClientOptions extends ConnectionLimits {
  /** Default request deadline, ms, 1 ..= 2³²−1; sent in the registration. Default 5000. */
  timeout?: number;
  /** Ms allowed to dial and register, each time. Default 5000. */
  connectTimeout?: number;
  /** Ms between PINGs while the connection is idle in either direction; 0 disables. Default 30000. */
  pingInterval?: number;
  /** First reconnect delay, ms; doubles per attempt up to maxReconnectDelay, with jitter. Default 100. */
  reconnectDelay?: number;
  /** Largest reconnect delay, ms. Default 5000. */
  maxReconnectDelay?: number;
  /** Reconnect attempts before the client gives up and closes; 0 = never reconnect. Default Infinity. */
  maxReconnectAttempts?: number;
  /**
   * Ms close() waits for work in flight before failing what is left with CLOSED; it then gives the
   * goodbye up to writeTimeout, so close() resolves within closeTimeout + writeTimeout. Default 10000.
   */
  closeTimeout?: number;
  /** This client's id (UUID string), unique per instance. Default: a random one. */
  clientId?: string;
  /** Name for the broker's logs and metrics (registration extension 2). */
  clientName?: string;
  /** Token the broker checks (registration extension 1). */
  authToken?: string;
  /**
   * Connect with TLS: `true` or settings (`ca`, `cert`/`key` for mutual TLS, `servername`,
   * `rejectUnauthorized`). A `tls://` address means TLS without this option; a `tcp://` address
   * with it is refused. Default: plaintext unless the address is `tls://`.
   */
  tls?: ClientTlsOptions | boolean;
  /** Aborts the first connect (rejecting it with ABORTED); no effect once connected. */
  signal?: AbortSignal;
  /** Where the client logs; a pino logger fits. Default: silent. */
  logger?: Logger;
  /** Told of every state change; `error` says why the connection was lost or the client closed. */
  onStateChange?: (state: ClientState, error: Error | undefined) => void;
}

/** ClientOptions with every default applied and every value checked. */
export interface ResolvedClientOptions {
  timeout: number;
  connectTimeout: number;
  pingInterval: number;
  reconnectDelay: number;
  maxReconnectDelay: number;
  maxReconnectAttempts: number;
  closeTimeout: number;
  clientId: string;
  clientName: string | undefined;
  authToken: string | undefined;
  signal: AbortSignal | undefined;
  logger: Logger;
  onStateChange: ((state: ClientState, error: Error | undefined) => void) | undefined;
  connection: Required<ConnectionLimits>;
}

/** Resolves and checks ClientOptions; a bad value throws InvalidArgumentError naming the option. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const timer = { min: 1, max: MAX_TIMER_MS };
  const clientId = stringOption("clientId", options.clientId) ?? newIdString();
  idToBytes(clientId, "clientId");
  return {
    timeout: numberOption("timeout", options.timeout, DEFAULT_REQUEST_TIMEOUT, { min: 1, max: MAX_TIMEOUT_MS }),
    connectTimeout: numberOption("connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT, timer),
    pingInterval: numberOption("pingInterval", options.pingInterval, DEFAULT_PING_INTERVAL, { max: MAX_TIMER_MS }),
    reconnectDelay: numberOption("reconnectDelay", options.reconnectDelay, DEFAULT_RECONNECT_DELAY, timer),
    maxReconnectDelay: numberOption("maxReconnectDelay", options.maxReconnectDelay, DEFAULT_MAX_RECONNECT_DELAY, timer),
    maxReconnectAttempts: numberOption("maxReconnectAttempts", options.maxReconnectAttempts, DEFAULT_MAX_RECONNECT_ATTEMPTS),
    closeTimeout: numberOption("closeTimeout", options.closeTimeout, DEFAULT_CLOSE_TIMEOUT, { max: MAX_TIMER_MS }),
    clientId,
    clientName: stringOption("clientName", options.clientName),
    authToken: stringOption("authToken", options.authToken),
    signal: options.signal,
    logger: options.logger ?? silentLogger,
    onStateChange: options.onStateChange,
    connection: {
      readTimeout: numberOption("readTimeout", options.readTimeout, DEFAULT_READ_TIMEOUT, { max: MAX_TIMER_MS }),
      writeTimeout: numberOption("writeTimeout", options.writeTimeout, DEFAULT_WRITE_TIMEOUT, timer),
      maxWriteQueueFrames: numberOption("maxWriteQueueFrames", options.maxWriteQueueFrames, DEFAULT_MAX_WRITE_QUEUE_FRAMES, { min: 1 }),
      maxWriteQueueErrorFrames: numberOption("maxWriteQueueErrorFrames", options.maxWriteQueueErrorFrames, DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES, { min: 1 }),
      maxWriteQueueBytes: numberOption("maxWriteQueueBytes", options.maxWriteQueueBytes, DEFAULT_MAX_WRITE_QUEUE_BYTES, { min: 1 }),
    },
  };
}


/** Tells `options.onStateChange` of a state change; what the listener throws is logged, never thrown. */
export function notifyStateChange(options: ResolvedClientOptions, state: ClientState, error: Error | undefined): void {
  try {
    options.onStateChange?.(state, error);
  } catch (listenerError) {
    options.logger.warn({ error: String(listenerError) }, "onStateChange threw");
  }
}
