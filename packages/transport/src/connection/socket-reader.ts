import type { OnReadOpts } from "node:net";

/** What a SocketReader feeds: a streaming decoder that can take a large payload in place. */
export interface InPlaceDecoder<T> {
  push(chunk: Buffer): T[];
  payloadRoom(minRemaining: number): Buffer | null;
  filled(bytes: number): T[];
}

/** Where a SocketReader delivers. */
export interface ReadSink<T> {
  /** The frames one read completed, in order (never called with none). */
  frames(frames: T[]): void;
  /** The decoder refused the stream; nothing more is read into it. */
  failed(error: unknown): void;
}

/**
 * Sizes of the slabs ordinary reads fill, one after another (a read never spans two). A socket
 * always holds the room for its next read, so a quiet connection keeps a small slab; a new slab is
 * four times the largest read into the last one, within these bounds.
 */
const MIN_SLAB = 1024;
const MAX_SLAB = 64 * 1024;
/** Room left in a slab below which the next read takes a fresh one. */
const MIN_READ = 256;
/** A payload with at least this many bytes still to come is read straight into its own buffer. */
export const IN_PLACE_MIN = 64 * 1024;

/**
 * Reads a client socket through Node's `onread`, choosing where each read lands:
 *
 *  - ordinary reads fill a slab forward, one read after the other (no allocation per read; frames
 *    handed out are views into it, so a slab is never written over: the next read takes the room
 *    after the last, or a fresh slab). Slabs are 1 KiB on a quiet connection, up to 64 KiB on a
 *    busy one;
 *  - while a payload with at least IN_PLACE_MIN bytes to come is arriving, the socket reads
 *    straight into that payload's own buffer (the decoder's payloadRoom), so a large body is
 *    never gathered from pieces: one buffer, no copy, none of the per-read buffers Node would
 *    otherwise allocate and the garbage collector then chase.
 *
 * Make it before the socket (`net.connect({ onread: reader.onread })`), then attach() the decoder
 * and the sink; bytes that arrive before attach() are kept and decoded then.
 */
export class SocketReader<T> {
  /** The `onread` option for net.connect. */
  readonly onread: OnReadOpts;
  #slab: Buffer = Buffer.allocUnsafe(MIN_SLAB);
  /** Where the next ordinary read goes in the slab. */
  #at = 0;
  /** The largest ordinary read into this slab: sizes the next. */
  #largestRead = 0;
  /** The last buffer handed to the socket is a payload's room, not the slab. */
  #inPlace = false;
  #decoder: InPlaceDecoder<T> | null = null;
  #sink: ReadSink<T> | null = null;
  #early: Buffer[] = [];
  #failed = false;

  constructor() {
    this.onread = { buffer: () => this.#nextBuffer(), callback: (bytes: number) => this.#onRead(bytes) };
  }

  /** Starts decoding into `sink`, first whatever arrived before. */
  attach(decoder: InPlaceDecoder<T>, sink: ReadSink<T>): void {
    this.#decoder = decoder;
    this.#sink = sink;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) if (!this.#failed) this.#decode(chunk, chunk.length);
  }

  #nextBuffer(): Buffer {
    const room = this.#failed ? null : (this.#decoder?.payloadRoom(IN_PLACE_MIN) ?? null);
    this.#inPlace = room !== null;
    if (room !== null) return room;
    if (this.#slab.length - this.#at < MIN_READ) {
      this.#slab = Buffer.allocUnsafe(Math.min(MAX_SLAB, Math.max(MIN_SLAB, 4 * this.#largestRead)));
      this.#at = 0;
      this.#largestRead = 0;
    }
    return this.#slab.subarray(this.#at);
  }

  #onRead(bytes: number): boolean {
    if (this.#failed) return true;
    if (this.#inPlace) {
      this.#decode(null, bytes);
      return true;
    }
    const chunk = this.#slab.subarray(this.#at, this.#at + bytes);
    this.#at += bytes;
    if (bytes > this.#largestRead) this.#largestRead = bytes;
    if (this.#decoder === null) this.#early.push(chunk);
    else this.#decode(chunk, bytes);
    return true;
  }

  /** Decodes `chunk`, or with null the `bytes` just read into the payload's room, and delivers. */
  #decode(chunk: Buffer | null, bytes: number): void {
    let frames: T[];
    try {
      frames = chunk === null ? this.#decoder!.filled(bytes) : this.#decoder!.push(chunk);
    } catch (error) {
      this.#failed = true;
      this.#sink!.failed(error);
      return;
    }
    if (frames.length > 0) this.#sink!.frames(frames);
  }
}
