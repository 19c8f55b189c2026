import { BodyAssembler } from "@switchyard/transport";

/** Where a pending request's response goes, frame by frame. */
export interface ResponseSink {
  /** Response bytes, in order (never empty). */
  push(bytes: Buffer): void;
  /** The response is complete. */
  end(): void;
  /** The request failed; nothing more will come. */
  fail(error: Error): void;
}

/**
 * Assembles a whole response for `send()`: RESPONSE gives one part (returned as it came, no copy),
 * RESPONSE_START/CHUNK…/END several (concatenated once, at the end). The byte limit is enforced
 * before push(), by the consumer, for send() and stream() alike.
 */
export class ResponseBuffer implements ResponseSink {
  readonly #body = new BodyAssembler();
  readonly #resolve: (body: Buffer) => void;
  readonly #reject: (error: Error) => void;

  constructor(resolve: (body: Buffer) => void, reject: (error: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  push(bytes: Buffer): void {
    this.#body.push(bytes);
  }

  end(): void {
    this.#resolve(this.#body.take());
  }

  fail(error: Error): void {
    this.#body.take();
    this.#reject(error);
  }
}
