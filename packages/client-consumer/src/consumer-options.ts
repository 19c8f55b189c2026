import type { Headers } from "@switchyard/protocol";
import type { FleetOptions } from "@switchyard/transport";
import { DEFAULT_MAX_BODY_BYTES, numberOption } from "@switchyard/transport/internal";

/** Default largest response a consumer assembles or streams, bytes: 64 MiB, then PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_RESPONSE_BYTES = DEFAULT_MAX_BODY_BYTES;

/**
 * Options of `Consumer.connect`; every field optional. Besides these, the shared client options:
 * `timeout` (default request deadline, 5000 ms), `connectTimeout`, `pingInterval`, reconnect
 * backoff, `closeTimeout`, `clientId`, `clientName`, `authToken`, `signal`, `logger`,
 * `onStateChange`, the connection's queue limits, and `resolveInterval` for a fleet's host names.
 */
export interface ConsumerOptions extends FleetOptions {
  /** Largest response body, bytes, for send() and stream() alike; beyond it PAYLOAD_TOO_LARGE and CANCEL. Default 64 MiB. */
  maxResponseBytes?: number;
}

/** Per-request options of send() and stream(). */
export interface SendOptions {
  /** This request's deadline, ms (≥ 1); the consumer's `timeout` when omitted. */
  timeout?: number;
  /** Aborting it rejects the request with ABORTED and sends CANCEL. */
  signal?: AbortSignal;
  /**
   * Headers sent with the request (docs/protocol.md §1.19; the provider reads them as
   * `ctx.headers`): at most 64, 16 KiB encoded, names case-insensitive tokens (sent in lower case),
   * values text. Bad ones throw InvalidArgumentError before anything is sent; a broker that speaks
   * only protocol 1.0 rejects the request with NOT_SUPPORTED, unsent.
   */
  headers?: Headers;
  /**
   * The request may be handled twice: if its broker is lost while it is in flight, it is sent
   * once more through the next live broker (same deadline) instead of failing with DISCONNECTED.
   * send() only, with a body held in memory (a string or bytes). Default false.
   */
  idempotent?: boolean;
}

/** What `consumer.request()` resolves with: the response body and the headers the provider sent with it. */
export interface Reply {
  body: Buffer;
  /** The response's headers; empty when the provider sent none. An object without prototype. */
  headers: Headers;
}

/** Checks the consumer's own options; throws InvalidArgumentError naming a bad one. */
export function resolveMaxResponseBytes(options: ConsumerOptions): number {
  return numberOption("maxResponseBytes", options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, { min: 0 });
}
