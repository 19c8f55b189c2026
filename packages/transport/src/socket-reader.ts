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

/** Size of the slabs ordinary reads fill, one after another; a read never spans two. */
const SLAB_SIZE = 64 * 1024;
/** Room left in a slab below which the next read takes a fresh one. */
const MIN_READ = 4 * 1024;
/** A payload with at least this many bytes still to come is read straight into its own buffer. */
export const IN_PLACE_MIN = 64 * 1024;

/**
 * Reads a client socket through Node's `onread`, choosing where each read lands:
 *
 *  - ordinary reads fill a 64 KiB slab forward, one read after the other (no allocation per read,
 *    and frames handed out are views into it, so a slab is never written over: the next read
 *    takes the room after the last, or a fresh slab);
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
  #slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  /** Where the next ordinary read goes in the slab. */
  #at = 0;
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
      this.#slab = Buffer.allocUnsafe(SLAB_SIZE);
      this.#at = 0;
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
