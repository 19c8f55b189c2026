import type { Headers } from "@switchyard/protocol";
import type { Body, FleetOptions } from "@switchyard/transport";
import { DEFAULT_MAX_BODY_BYTES } from "@switchyard/transport/internal";
import type { RequestContext } from "./request-context.js";

/** Default most requests a provider handles at once, declared to the broker: 64 (the broker's defaultProviderCapacity). */
export const DEFAULT_CONCURRENCY = 64;
/** Default largest assembled request body, bytes: 64 MiB, then PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_REQUEST_BYTES = DEFAULT_MAX_BODY_BYTES;

/**
 * Options of `Provider.connect`; every field optional. Besides these, the shared client options:
 * `timeout`, `connectTimeout`, `pingInterval`, reconnect backoff, `closeTimeout` (how long close()
 * lets in-flight handlers finish), `clientId`, `clientName`, `authToken`, `signal`, `logger`,
 * `onStateChange`, the connection's queue limits, and `resolveInterval` for a fleet's host names.
 */
export interface ProviderOptions extends FleetOptions {
  /**
   * Most requests handled at once (1 ..= 2³²−1), across every broker of the fleet: handlers
   * running, or requests handed out by requests() and not yet answered. One that ignores
   * ctx.signal after a cancel counts until it returns. Spread over the brokers as capacities that
   * follow demand (each broker at least 1); requests routed beyond it wait here for a free slot.
   * Default 64.
   */
  concurrency?: number;
  /**
   * Largest request body assembled into one Buffer, bytes; beyond it the request gets
   * PAYLOAD_TOO_LARGE. A body read as a stream (`requestBody`) is not limited by it. Default 64 MiB.
   */
  maxRequestBytes?: number;
  /**
   * How the handler (or `requests()`) gets each request's body: `"buffer"` (the default) waits for
   * the whole body and hands it over as one Buffer (`payload`); `"stream"` hands the request over as
   * soon as it begins, its body to be read from `ctx.body` as it arrives (`payload` is then empty),
   * of any size. A function decides per request, when it begins: it gets the request's context
   * (headers, channel, consumer, time left) and answers `"buffer"` or `"stream"` — e.g. stream what
   * the consumer marked `content-type: application/octet-stream`. The provider decides, not the
   * consumer: the consumer's headers are only what the function may look at.
   */
  requestBody?: RequestBodyMode | ((ctx: RequestContext) => RequestBodyMode);
}

/** How a request's body reaches its handler: whole, as one Buffer, or as a stream read as it arrives. */
export type RequestBodyMode = "buffer" | "stream";

/**
 * What a handler may answer: text (UTF-8), bytes, or a stream of chunks (a Readable fits); or
 * `{ body, headers }` to send headers with it (docs/protocol.md §1.19: at most 64, 16 KiB encoded;
 * bad ones answer HANDLER_ERROR, and a broker that speaks only 1.0 makes it NOT_SUPPORTED).
 */
export type ResponseBody = Body | ResponseWithHeaders;

/** A response body and the headers sent with it; the consumer reads them from `consumer.request()`. */
export interface ResponseWithHeaders {
  body: Body;
  headers?: Headers;
}

/**
 * Serves one request: resolves with the response body, or throws/rejects to answer
 * HANDLER_ERROR with the error's message (a thrown BrokerError keeps its own code). `payload` is
 * the whole body, or empty when the body is streamed (`requestBody: "stream"`): read `ctx.body`.
 */
export type Handler = (payload: Buffer, ctx: RequestContext) => ResponseBody | Promise<ResponseBody>;
