const EMPTY = Buffer.alloc(0);

/**
 * Default largest assembled body, bytes: 64 MiB, then PAYLOAD_TOO_LARGE. One default for the
 * broker's maxRequestBytes and maxResponseBytes, the provider's maxRequestBytes and the consumer's
 * maxResponseBytes.
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Collects a body that arrives in parts (START's bytes, then CHUNKs) up to a byte limit, and
 * hands it over whole: the one part as it came (no copy), or all parts concatenated once.
 *
 *   push(a) push(b) push(c) ──► take() = a‖b‖c     push() past maxBytes → false, nothing added
 */
export class BodyAssembler {
  readonly #maxBytes: number;
  /** The first part; most bodies have only this one, so no array is made for them. */
  #first: Buffer | null = null;
  /** Every later part, in order. */
  #rest: Buffer[] | null = null;
  #size = 0;

  /** `maxBytes`: the largest body accepted, bytes. Default: no limit. */
  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes collected so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds the next part; false (and nothing added) when it would take the body past maxBytes. */
  push(bytes: Buffer): boolean {
    if (this.#size + bytes.length > this.#maxBytes) return false;
    if (bytes.length === 0) return true;
    if (this.#first === null) this.#first = bytes;
    else if (this.#rest === null) this.#rest = [bytes];
    else this.#rest.push(bytes);
    this.#size += bytes.length;
    return true;
  }

  /** The whole body; the assembler is empty afterwards. */
  take(): Buffer {
    const first = this.#first;
    const rest = this.#rest;
    const size = this.#size;
    this.#first = this.#rest = null;
    this.#size = 0;
    if (first === null) return EMPTY;
    return rest === null ? first : Buffer.concat([first, ...rest], size);
  }
}
