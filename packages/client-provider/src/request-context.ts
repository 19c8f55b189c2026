import type { Headers } from "@switchyard/protocol";
import type { ResponseBody } from "./provider-options.js";

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
}

/**
 * A request as `provider.requests()` yields it, for a provider connected without a handler: its
 * body, its context, and the two ways to answer it. The first of respond() and fail() wins; later
 * calls, and any call after the request was cancelled (`signal` aborted), do nothing.
 */
export interface ProviderRequest extends RequestContext {
  /** The whole request body. */
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
