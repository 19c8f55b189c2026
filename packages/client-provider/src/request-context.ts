import type { Headers } from "@switchyard/protocol";
import type { ResponseBody } from "./provider-options.js";
import type { Readable } from "node:stream";

/** What a handler is told about the request besides its body: its `ctx`. */
export interface RequestContext {
  /**
   * Aborted when the request ends before the handler's answer: the consumer cancelled
   * or the broker gave up on it (reason CancelledError, code CANCELLED), the provider's own safety
   * net 1–1.25 s past the deadline fired (TimeoutError, TIMEOUT),
   * the broker connection was lost (DisconnectedError) or close() gave up waiting (CLOSED).
   * Nothing is sent for the request after that.
   */
  readonly signal: AbortSignal;
  /** The request's id (UUID string). */
  readonly requestId: string;
  /** Id of the consumer that sent it (UUID string), from the routing header. */
  readonly clientId: string;
  /** The channel (UUID string). */
  readonly channelId: string;
  /** Ms left before the request's deadline, as of now; 0 when the broker gave none. */
  readonly timeoutMs: number;
  /**
   * The headers the consumer sent (docs/protocol.md §1.19), names in lower case; empty when it
   * sent none. An object without prototype: `ctx.headers["content-type"]`.
   */
  readonly headers: Headers;
  /**
   * The request body as a stream (a Node Readable of Buffers, in object mode: each read yields one
   * chunk as it arrived; `for await`, `pipeline()` and `.pipe()` read it). With
   * `requestBody: "stream"` it is read as it arrives, of any size (not limited by maxRequestBytes),
   * and is the only way to the body; otherwise it yields the whole `payload` as one chunk.
   *
   * When the request ends before the body was read (cancelled, timed out, disconnected, closed) it
   * is destroyed with that typed error (CancelledError, TimeoutError, DisconnectedError…), which a
   * reader sees; 'error' is emitted only to listeners, so a handler that never reads it is not
   * disturbed. A handler may answer without reading all of it: the answer ends the request and the
   * rest of the body is discarded (a reader still iterating then gets ERR_STREAM_PREMATURE_CLOSE).
   * Answering with the body itself (`return ctx.body`, transformed or not) streams it back.
   */
  readonly body: RequestBody;
}

/**
 * A request as `provider.requests()` yields it, for a provider connected without a handler: its
 * body, its context, and the two ways to answer it. The first of respond() and fail() wins; later
 * calls, and any call after the request was cancelled (`signal` aborted), do nothing.
 */
export interface ProviderRequest extends RequestContext {
  /** The whole request body; empty when the body is streamed (`requestBody: "stream"`): read `body`. */
  readonly payload: Buffer;
  /**
   * Answers with `body`: text (UTF-8), bytes, or a stream of chunks, sent as the socket drains.
   * Resolves once the answer is queued (or could not be: a failure to deliver is logged, and the
   * consumer still gets its one outcome from the broker); never rejects. A stream that throws
   * midway answers HANDLER_ERROR.
   */
  respond(body: ResponseBody): Promise<void>;
  /**
   * Answers with an error: HANDLER_ERROR carrying `error`'s message, or a BrokerError's own code
   * (e.g. `new BrokerError("OVERLOADED", …)`). Resolves once queued; never rejects.
   */
  fail(error: unknown): Promise<void>;
}

/** `ctx.body`: a Node Readable whose chunks are Buffers (so `for await` yields Buffers). */
export interface RequestBody extends Readable {
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer>;
}
