import { type AnetLengthSize, InvalidArgumentError } from "@switchyard/protocol";
import type { Logger } from "@switchyard/transport";
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WRITE_TIMEOUT, msOption, numberOption, silentLogger } from "@switchyard/transport/internal";
import { MAX_TASK_TABLE_CAPACITY } from "./task-table.js";

/** Default `workers`: no limit of its own, so each pool's `cap` decides. */
export const DEFAULT_WORKERS = Number.POSITIVE_INFINITY;
/** Default requests that may wait for a connection slot before QUEUE_FULL. */
export const DEFAULT_QUEUE_SIZE = 1000;
/** Default requests in flight on one connection at once. */
export const DEFAULT_MAX_INFLIGHT_PER_CONN = 256;
/**
 * Default ms a connection with requests in flight may stay silent before it is replaced as stalled;
 * also how long a given-up request keeps its task id: 5 s.
 */
export const DEFAULT_STALL_TIMEOUT = 5000;
/** Default width of the length prefix: 2 bytes (u16), as the original. */
export const DEFAULT_LENGTH_SIZE: AnetLengthSize = 2;

export { DEFAULT_CLOSE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WRITE_TIMEOUT };

/** Options of a Broker; every field optional. Times in ms; 0 disables a timeout. */
export interface AnetBrokerOptions {
  /**
   * Most connections the broker holds from each pool at once (its "workers" per address), never
   * more than that pool's `cap`. Node runs every connection on one event loop, so this bounds
   * parallel connections, not threads. Default: each pool's `cap`.
   */
  workers?: number;
  /**
   * Where the broker reports what it recovers from (lost connections, misbehaving servers, refused
   * dials) at warn, and connections opened at debug: `console` or a pino logger as they are.
   * Default: silent (failures still reach callers and `stats`).
   */
  logger?: Logger;
  /** Requests that may wait for a free connection slot; beyond, `send()` fails with QUEUE_FULL at once. Default 1000. */
  queueSize?: number;
  /** Default per-request timeout of `send()`; 0 waits for the response (or the signal) forever. Default 5000. */
  timeout?: number;
  /**
   * A connection with requests in flight that receives nothing for this long has stalled and is
   * replaced; a request given up (timeout, abort) keeps its task id this long for a late response,
   * then its connection is considered stalled too. Not the clients' `readTimeout` (any silence, 2
   * min): an anet connection with nothing in flight may stay silent for ever. Default 5000.
   */
  stallTimeout?: number;
  /** A server that does not read its socket for this long has its connection closed. Default 5000. */
  writeTimeout?: number;
  /**
   * Requests in flight on one connection; 1 = strictly one at a time, for servers that cannot
   * pipeline. Default 256; a larger value (Infinity included) is taken as 2²⁴, which 32-bit task ids
   * leave room for.
   */
  maxInflightPerConn?: number;
  /** Length prefix width: 2 (u16, the original) or 4 (u32). Default 2. */
  lengthSize?: AnetLengthSize;
  /** Largest body, in bytes. Default: 65 531 with lengthSize 2, 16 MiB with 4. */
  maxBodyBytes?: number;
  /** How long `close()` waits for requests in flight before failing them with QUIT. Default 10000, as the clients'. */
  closeTimeout?: number;
}

/** AnetBrokerOptions with every default applied and checked. */
export type ResolvedAnetBrokerOptions = Required<Omit<AnetBrokerOptions, "maxBodyBytes">> & Pick<AnetBrokerOptions, "maxBodyBytes">;

/** Applies the defaults; a bad value throws INVALID_ARGUMENT naming the option. */
export function resolveAnetBrokerOptions(options: AnetBrokerOptions): ResolvedAnetBrokerOptions {
  const logger = options.logger ?? silentLogger;
  if (typeof logger?.warn !== "function" || typeof logger.debug !== "function") {
    throw new InvalidArgumentError(`Broker option "logger" must have debug() and warn(), as console and pino do`);
  }
  const { lengthSize, maxBodyBytes } = resolveAnetCodec(options, "Broker");
  return {
    workers: numberOption(`Broker option "workers"`, options.workers, DEFAULT_WORKERS, { min: 1 }),
    logger,
    queueSize: numberOption(`Broker option "queueSize"`, options.queueSize, DEFAULT_QUEUE_SIZE),
    timeout: ms("timeout", options.timeout, DEFAULT_REQUEST_TIMEOUT),
    stallTimeout: ms("stallTimeout", options.stallTimeout, DEFAULT_STALL_TIMEOUT),
    writeTimeout: ms("writeTimeout", options.writeTimeout, DEFAULT_WRITE_TIMEOUT),
    maxInflightPerConn: Math.min(
      numberOption(`Broker option "maxInflightPerConn"`, options.maxInflightPerConn, DEFAULT_MAX_INFLIGHT_PER_CONN, { min: 1 }),
      MAX_TASK_TABLE_CAPACITY,
    ),
    lengthSize,
    maxBodyBytes,
    closeTimeout: ms("closeTimeout", options.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
  };
}

/**
 * The codec options shared by the Broker and createAnetServer, checked: lengthSize 2 or 4 (default
 * 2), maxBodyBytes a whole number when given. `owner` names where they were given.
 */
export function resolveAnetCodec(options: Pick<AnetBrokerOptions, "lengthSize" | "maxBodyBytes">, owner: string): { lengthSize: AnetLengthSize; maxBodyBytes: number | undefined } {
  const lengthSize = options.lengthSize ?? DEFAULT_LENGTH_SIZE;
  if (lengthSize !== 2 && lengthSize !== 4) throw new InvalidArgumentError(`${owner} option "lengthSize" must be 2 or 4, got ${String(lengthSize)}`);
  const maxBodyBytes = options.maxBodyBytes === undefined ? undefined : numberOption(`${owner} option "maxBodyBytes"`, options.maxBodyBytes, 0);
  return { lengthSize, maxBodyBytes };
}

/** A timeout option in ms (transport's msOption); `owner` names where it was given. */
export function ms(name: string, value: number | undefined, fallback: number, owner = "Broker"): number {
  return msOption(`${owner} option "${name}"`, value, fallback);
}
