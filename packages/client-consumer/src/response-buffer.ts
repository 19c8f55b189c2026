/** Where a pending request's response goes, frame by frame. */
export interface ResponseSink {
  /** Response bytes, in order (never empty). */
  push(bytes: Buffer): void;
  /** The response is complete. */
  end(): void;
  /** The request failed; nothing more will come. */
  fail(error: Error): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Assembles a whole response for `send()`: RESPONSE gives one part (returned as it came, no copy),
 * RESPONSE_START/CHUNK…/END several (concatenated once, at the end). The byte limit is enforced
 * before push(), by the consumer.
 */
export class ResponseBuffer implements ResponseSink {
  #parts: Buffer[] = [];
  #bytes = 0;
  readonly #resolve: (body: Buffer) => void;
  readonly #reject: (error: Error) => void;

  constructor(resolve: (body: Buffer) => void, reject: (error: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  push(bytes: Buffer): void {
    this.#parts.push(bytes);
    this.#bytes += bytes.length;
  }

  end(): void {
    const parts = this.#parts;
    this.#parts = [];
    this.#resolve(parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#bytes));
  }

  fail(error: Error): void {
    this.#parts = [];
    this.#reject(error);
  }
}
