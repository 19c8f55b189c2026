/**
 * Reads a header's declared payload length, validating the header against `limit` (the largest
 * payload allowed); throws to refuse it. Called before a single payload byte is buffered.
 */
export type PayloadLengthReader = (source: Buffer, offset: number, limit: number) => number;

/**
 * Builds the frame object from one whole frame: its header is at `offset` of `source` (read it in
 * place: no view is made for it), its payload a view where the bytes were contiguous.
 */
export type FrameBuilder<T> = (source: Buffer, offset: number, payload: Buffer) => T;

/**
 * Says whether the payload of the frame whose header is at `offset` of `source` may be handed out
 * in pieces (see LengthPrefixedSplitter). Called once per frame whose payload spans chunks.
 */
export type SplitPolicy = (source: Buffer, offset: number) => boolean;

/**
 * Smallest piece a split payload is handed out in, unless it is the payload's last: smaller reads
 * are joined to the ones after them, so a peer that dribbles bytes one read at a time cannot make
 * a relay send a frame per byte.
 */
export const MIN_PIECE = 16 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into frames of `headerSize` bytes followed by a payload whose length the
 * header declares. The one streaming state machine under both the broker frame decoder and the
 * anet decoder.
 *
 * Frames wholly inside one pushed chunk are handed out as zero-copy views. A payload that spans
 * chunks is kept as the views of its pieces and gathered, once, when its last byte arrives (a
 * payload that arrives whole in the chunk after its header stays a view). Memory follows the bytes
 * actually received, never the length a header merely declares, and is at most one header plus
 * one (already validated) payload:
 *
 *   chunk n                 chunk n+1
 *   [ hdr|payload ][ hdr|pa ][ yload ][ hdr|payload ][ h ]
 *    ^ view         ^ pieces gathered   ^ view        ^ copied into #head
 *
 * A payload that spans chunks and that `split` accepts is not gathered: when its last byte arrives
 * it is handed out as the pieces it was read in, each a frame of its own (same header, the piece
 * as payload; pieces under MIN_PIECE joined to the next). A relay forwards them without copying;
 * a receiver assembles the body once. (Handing pieces out earlier, as they arrive, was measured
 * and lost: a relay then writes more, smaller batches, and each write wakes the reader.)
 *
 * After the length reader throws, the splitter is poisoned: every later push throws the same error.
 */
export class LengthPrefixedSplitter<T> {
  readonly #headerSize: number;
  readonly #limit: number;
  readonly #readLength: PayloadLengthReader;
  readonly #build: FrameBuilder<T>;
  readonly #split: SplitPolicy | null;
  #out: T[] = [];
  #head: Buffer | null = null;
  #headFill = 0;
  #bodyHeader: Buffer | null = null;
  #bodyParts: Buffer[] = [];
  #bodyLength = 0;
  #bodyFill = 0;
  /** The payload in progress is handed out as the pieces it was read in. */
  #bodySplit = false;
  #failure: unknown = null;

  /**
   * `readLength`, `build` and `split` are shared functions (no per-connection closures); `limit`
   * is passed to readLength. Without `split`, every payload is handed out whole.
   */
  constructor(headerSize: number, limit: number, readLength: PayloadLengthReader, build: FrameBuilder<T>, split: SplitPolicy | null = null) {
    this.#headerSize = headerSize;
    this.#limit = limit;
    this.#readLength = readLength;
    this.#build = build;
    this.#split = split;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return (this.#head === null ? 0 : this.#headerSize) + (this.#bodyHeader === null ? 0 : this.#headerSize + this.#bodyFill);
  }

  /** Feeds the next piece of the stream; returns the frames it completed, in order. */
  push(chunk: Buffer): T[] {
    if (this.#failure !== null) throw this.#failure;
    const out: T[] = [];
    this.#out = out;
    try {
      this.#consume(chunk);
      return out;
    } catch (err) {
      this.#failure = err;
      this.#head = this.#bodyHeader = null;
      this.#bodyParts = [];
      throw err;
    }
  }

  #consume(chunk: Buffer): void {
    let offset = 0;
    if (this.#bodyHeader !== null) {
      offset = this.#fillBody(chunk);
      if (this.#bodyHeader !== null) return;
    } else if (this.#head !== null) {
      offset = this.#fillHead(chunk);
      if (this.#headFill < this.#headerSize) return;
      const header = this.#head;
      this.#head = null;
      offset = this.#startPayload(header, 0, this.#readLength(header, 0, this.#limit), chunk, offset);
    }
    const headerSize = this.#headerSize;
    while (chunk.length - offset >= headerSize) {
      const length = this.#readLength(chunk, offset, this.#limit);
      offset = this.#startPayload(chunk, offset, length, chunk, offset + headerSize);
      if (this.#bodyHeader !== null) return;
    }
    if (offset < chunk.length) {
      this.#head = Buffer.allocUnsafe(headerSize);
      this.#headFill = chunk.copy(this.#head, 0, offset);
    }
  }

  /** Emits the frame if its payload is all in `chunk`, else starts buffering it. Returns the new offset. */
  #startPayload(source: Buffer, headerAt: number, length: number, chunk: Buffer, offset: number): number {
    if (length === 0) {
      this.#out.push(this.#build(source, headerAt, EMPTY));
      return offset;
    }
    if (chunk.length - offset >= length) {
      this.#out.push(this.#build(source, headerAt, chunk.subarray(offset, offset + length)));
      return offset + length;
    }
    this.#bodyHeader = Buffer.from(source.subarray(headerAt, headerAt + this.#headerSize));
    this.#bodyLength = length;
    this.#bodyFill = 0;
    this.#bodySplit = this.#split?.(source, headerAt) === true;
    if (offset < chunk.length) this.#fillBody(chunk.subarray(offset));
    return chunk.length;
  }

  #fillHead(chunk: Buffer): number {
    const copied = chunk.copy(this.#head!, this.#headFill, 0, this.#headerSize - this.#headFill);
    this.#headFill += copied;
    return copied;
  }

  /** Takes what `chunk` holds of the payload in progress; returns how many bytes it took. */
  #fillBody(chunk: Buffer): number {
    const taken = Math.min(this.#bodyLength - this.#bodyFill, chunk.length);
    this.#bodyParts.push(taken === chunk.length ? chunk : chunk.subarray(0, taken));
    this.#bodyFill += taken;
    if (this.#bodyFill === this.#bodyLength) {
      const header = this.#bodyHeader!;
      const parts = this.#bodyParts;
      this.#bodyHeader = null;
      this.#bodyParts = [];
      if (this.#bodySplit) this.#emitPieces(header, parts);
      else this.#out.push(this.#build(header, 0, join(parts, 0, parts.length, this.#bodyLength)));
    }
    return taken;
  }

  /** Hands out `parts` as frames of their own: each a view as it was read, runs under MIN_PIECE joined. */
  #emitPieces(header: Buffer, parts: Buffer[]): void {
    let runStart = 0;
    let runBytes = 0;
    for (let i = 0; i < parts.length; i++) {
      runBytes += parts[i]!.length;
      if (runBytes < MIN_PIECE && i < parts.length - 1) continue;
      this.#out.push(this.#build(header, 0, join(parts, runStart, i + 1, runBytes)));
      runStart = i + 1;
      runBytes = 0;
    }
  }
}

/** parts[from..to) as one buffer of `size` bytes: the part itself when there is one. */
function join(parts: Buffer[], from: number, to: number, size: number): Buffer {
  return to - from === 1 ? parts[from]! : Buffer.concat(parts.slice(from, to), size);
}
