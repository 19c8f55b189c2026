import { InvalidArgumentError } from "./errors.js";

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
 * Frames whose payload may be handed out as the parts it arrived in, uncopied: `keeps` says which
 * (given the header at `offset` of `source`), `build` makes such a frame from its header (a buffer
 * of its own), its parts in order and their total length.
 */
export interface PartsPolicy<T> {
  keeps(source: Buffer, offset: number): boolean;
  build(header: Buffer, parts: readonly Buffer[], length: number): T;
}

/**
 * Parts of a payload smaller than this are copied together into a buffer of this size rather than
 * kept as views, so a peer that dribbles a payload one byte per read costs a copy, not a view
 * object per byte.
 */
export const MIN_PART = 16 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into frames of `headerSize` bytes followed by a payload whose length the
 * header declares. The one streaming state machine under both the broker frame decoder and the
 * anet decoder.
 *
 * Frames wholly inside one pushed chunk are handed out as zero-copy views. A payload that spans
 * chunks is kept as the views of its parts (parts under MIN_PART copied together) and gathered,
 * once, when its last byte arrives (a payload that arrives whole in the chunk after its header
 * stays a view). Memory follows the bytes actually received, never the length a header merely
 * declares, and is at most one header plus one (already validated) payload:
 *
 *   chunk n                 chunk n+1
 *   [ hdr|payload ][ hdr|pa ][ yload ][ hdr|payload ][ h ]
 *    ^ view         ^ parts gathered    ^ view        ^ copied into #head
 *
 * Two ways to skip the gathering copy:
 * - a payload that `parts` keeps is handed out as its parts (a relay forwards them as they are);
 * - a reader that can choose where the socket writes (Node's `onread`) asks `payloadRoom()` for
 *   the rest of a large payload and reads straight into it, then reports the bytes to `filled()`.
 *   The payload then gets a buffer of its declared length at once — for clients, which have one
 *   connection and trust its peer; a server keeps to push().
 *
 * After the length reader throws, the splitter is poisoned: every later push throws the same error.
 */
export class LengthPrefixedSplitter<T> {
  readonly #headerSize: number;
  readonly #limit: number;
  readonly #readLength: PayloadLengthReader;
  readonly #build: FrameBuilder<T>;
  readonly #parts: PartsPolicy<T> | null;
  #out: T[] = [];
  #head: Buffer | null = null;
  #headFill = 0;
  /** The header of the payload in progress, or null between payloads. */
  #bodyHeader: Buffer | null = null;
  #bodyLength = 0;
  #bodyFill = 0;
  #bodyKeepsParts = false;
  /** The payload in progress as views (and copied small parts)… */
  #bodyParts: Buffer[] = [];
  /** …where small parts are being copied together (#tailFill bytes so far)… */
  #tail: Buffer | null = null;
  #tailFill = 0;
  /** …or, once payloadRoom() was asked, one buffer of its whole length, filled in place. */
  #body: Buffer | null = null;
  #failure: unknown = null;

  /**
   * `readLength`, `build` and `parts` are shared (no per-connection closures); `limit` is passed
   * to readLength. Without `parts`, every payload is handed out whole.
   */
  constructor(headerSize: number, limit: number, readLength: PayloadLengthReader, build: FrameBuilder<T>, parts: PartsPolicy<T> | null = null) {
    this.#headerSize = headerSize;
    this.#limit = limit;
    this.#readLength = readLength;
    this.#build = build;
    this.#parts = parts;
  }

  /** Bytes held back waiting for the rest of a frame (a payload read in place: its whole buffer). */
  get bufferedBytes(): number {
    const head = this.#head === null ? 0 : this.#headerSize;
    if (this.#bodyHeader === null) return head;
    return head + this.#headerSize + (this.#body === null ? this.#bodyFill : this.#body.length);
  }

  /** Feeds the next piece of the stream; returns the frames it completed, in order. */
  push(chunk: Buffer): T[] {
    const out = this.#begin();
    try {
      this.#consume(chunk);
    } catch (err) {
      throw this.#poison(err);
    }
    return out;
  }

  /**
   * Where to read the rest of the payload in progress straight into, once at least `minRemaining`
   * of its bytes are still to come; else null. The payload gets its own buffer of its declared
   * length (the bytes that came before are copied in) and the unfilled end of it is returned, now
   * and until it is full; a read into it must be reported to filled(). Push() still works
   * meanwhile (it copies).
   */
  payloadRoom(minRemaining: number): Buffer | null {
    if (this.#failure !== null || this.#bodyHeader === null) return null;
    if (this.#body === null) {
      if (this.#bodyLength - this.#bodyFill < minRemaining) return null;
      this.#sealTail();
      this.#body = Buffer.allocUnsafe(this.#bodyLength);
      let at = 0;
      for (const part of this.#bodyParts) at += part.copy(this.#body, at);
      this.#bodyParts = [];
    }
    return this.#body.subarray(this.#bodyFill);
  }

  /** `bytes` were read into the last payloadRoom(); returns the frames that completed (the payload's). */
  filled(bytes: number): T[] {
    const out = this.#begin();
    try {
      this.#fillInPlace(bytes);
    } catch (err) {
      throw this.#poison(err);
    }
    return out;
  }

  /** A fresh output list for one push or fill; a poisoned splitter throws its error instead. */
  #begin(): T[] {
    if (this.#failure !== null) throw this.#failure;
    const out: T[] = [];
    this.#out = out;
    return out;
  }

  /** Remembers `err` for every later call and lets go of what was buffered; returns it. */
  #poison(err: unknown): unknown {
    this.#failure = err;
    this.#head = this.#bodyHeader = this.#body = this.#tail = null;
    this.#bodyParts = [];
    return err;
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
    // A header gathered across reads is already a buffer of its own; one inside `chunk` is copied out.
    this.#bodyHeader = source === chunk ? Buffer.from(source.subarray(headerAt, headerAt + this.#headerSize)) : source;
    this.#bodyLength = length;
    this.#bodyFill = 0;
    this.#bodyKeepsParts = this.#parts?.keeps(source, headerAt) === true;
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
    const part = taken === chunk.length ? chunk : chunk.subarray(0, taken);
    if (this.#body !== null) part.copy(this.#body, this.#bodyFill);
    else if (taken === this.#bodyLength) this.#bodyParts.push(part); // the whole payload in one piece stays a view
    else this.#addPart(part);
    this.#bodyFill += taken;
    if (this.#bodyFill === this.#bodyLength) this.#finishBody();
    return taken;
  }

  #fillInPlace(bytes: number): void {
    if (this.#body === null || bytes > this.#bodyLength - this.#bodyFill) {
      throw new InvalidArgumentError(`filled(${bytes}) without a payloadRoom() that held that many bytes`);
    }
    this.#bodyFill += bytes;
    if (this.#bodyFill === this.#bodyLength) this.#finishBody();
  }

  /** Keeps a large part as a view; copies small ones together (see MIN_PART). */
  #addPart(part: Buffer): void {
    if (part.length >= MIN_PART) {
      this.#sealTail();
      this.#bodyParts.push(part);
      return;
    }
    if (this.#tail !== null && this.#tail.length - this.#tailFill < part.length) this.#sealTail();
    // no bigger than what is left of the payload: a small frame cut by a read costs a small copy
    this.#tail ??= Buffer.allocUnsafe(Math.min(MIN_PART, this.#bodyLength - this.#bodyFill));
    this.#tailFill += part.copy(this.#tail, this.#tailFill);
  }

  #sealTail(): void {
    if (this.#tail === null) return;
    this.#bodyParts.push(this.#tail.subarray(0, this.#tailFill));
    this.#tail = null;
    this.#tailFill = 0;
  }

  #finishBody(): void {
    const header = this.#bodyHeader!;
    const length = this.#bodyLength;
    this.#bodyHeader = null;
    if (this.#body !== null) {
      const body = this.#body;
      this.#body = null;
      this.#out.push(this.#build(header, 0, body));
      return;
    }
    this.#sealTail();
    const parts = this.#bodyParts;
    this.#bodyParts = [];
    if (parts.length === 1) this.#out.push(this.#build(header, 0, parts[0]!));
    else if (this.#bodyKeepsParts) this.#out.push(this.#parts!.build(header, parts, length));
    else this.#out.push(this.#build(header, 0, Buffer.concat(parts, length)));
  }
}
