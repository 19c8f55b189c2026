import { TimeoutError } from "@switchyard/protocol";
import { BodyAssembler, rejectWithCallerStack } from "@switchyard/transport/internal";

/** Where a pending request's response goes, frame by frame. */
export interface ResponseSink {
  /** Response bytes, in order (never empty). */
  push(bytes: Buffer): void;
  /** The response is complete. */
  end(): void;
  /** The request failed; nothing more will come. */
  fail(error: Error): void;
  /** Drops what arrived so far, for a request sent again; absent where bytes already went to a reader. */
  restart?(): void;
}

/**
 * Assembles a whole response for `send()` and settles its promise: RESPONSE gives one part
 * (returned as it came, no copy), RESPONSE_START/CHUNK…/END several (concatenated once, at the
 * end). It is the BodyAssembler itself (push() is the assembler's), one object per request
 * rather than two. The byte limit is enforced before push(), by the consumer, for send() and
 * stream() alike.
 *
 * Its promise is what send() returns, as it is: no async wrapper, no extra link per request. A
 * timeout is the one failure whose stack must name the caller's send(), and the timer that
 * notices it is on no useful stack; so fail() makes that error again inside a promise job
 * chained to the caller's `await` (transport's rejectWithCallerStack), where V8's async stack
 * trace finds the caller.
 */
export class ResponseBuffer extends BodyAssembler implements ResponseSink {
  /** The buffer under construction, for #capture: promise executors run synchronously. */
  static #building: ResponseBuffer | null = null;
  /** One executor for every buffer instead of a closure per request. */
  static readonly #capture = (resolve: (body: Buffer | PromiseLike<Buffer>) => void, reject: (error: unknown) => void): void => {
    const buffer = ResponseBuffer.#building!;
    buffer.#resolve = resolve;
    buffer.#reject = reject;
  };

  /** Resolves with the whole body at end(), or rejects with fail()'s error. */
  readonly promise: Promise<Buffer>;
  #resolve!: (body: Buffer | PromiseLike<Buffer>) => void;
  #reject!: (error: unknown) => void;

  constructor() {
    super();
    ResponseBuffer.#building = this;
    this.promise = new Promise(ResponseBuffer.#capture);
    ResponseBuffer.#building = null;
  }

  end(): void {
    this.#resolve(this.take());
  }

  restart(): void {
    this.take();
  }

  fail(error: Error): void {
    this.take();
    if (error instanceof TimeoutError) rejectWithCallerStack(this.#resolve, this.#reject, () => new TimeoutError(error.message));
    else this.#reject(error);
  }
}
