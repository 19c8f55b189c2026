import { type AnetCodecOptions, type AnetLengthSize, encodeAnetFrame, maxAnetBody } from "@switchyard/protocol";
import type { SocketWriter } from "@switchyard/transport";

/** What a batch needs of a SocketWriter. */
export type BatchWriter = Pick<SocketWriter, "write" | "flush">;

/** Bytes of the task id after the length prefix (PROTOCOL.md §2; frame-batch.test.ts holds it to encodeAnetFrame's output). */
const TASK_ID_BYTES = 4;

/**
 * Bodies at least this long go to the writer uncopied, after a head of their own; shorter ones are
 * copied into the batch (a copy costs less than a buffer and a writer entry per frame).
 */
const COPY_BELOW = 16 * 1024;

/** Past this many bytes waiting, the batch is written at once rather than at the end of the tick. */
const INLINE_FLUSH_BYTES = 256 * 1024;

const NO_BODY = Buffer.alloc(0);

/**
 * The anet frames one connection writes during one tick, encoded into a single buffer when the
 * tick ends and handed to the connection's SocketWriter as one entry. A frame costs a place in two
 * reused arrays instead of a head buffer, a parts array and a writer entry of its own, which is
 * most of what a small request or answer cost to write.
 *
 *   add(id, body) ─► [id id id …] [body body body …]  ── end of tick ──► [len|id|body len|id|body …] ─► writer
 *   add(id, large body) ─► the batch so far, then encodeAnetFrame's [head, body] ─► writer   (order kept)
 *
 * A body over the codec's limit, or large, goes through encodeAnetFrame, so protocol's codec stays
 * the one place that refuses a body (MaxLenExceededError) and the bytes are its format.
 */
export class FrameBatch {
  readonly #writer: BatchWriter;
  readonly #codec: AnetCodecOptions;
  readonly #lengthSize: AnetLengthSize;
  readonly #copyMax: number;
  readonly #onRefused: () => void;
  readonly #taskIds: number[] = [];
  readonly #bodies: Uint8Array[] = [];
  #count = 0;
  #bytes = 0;
  #scheduled = false;
  readonly #flushSoon = () => this.flush();

  /** `onRefused` is called when the writer refuses a batch already accepted (it is closed, or over its byte limit). */
  constructor(writer: BatchWriter, codec: AnetCodecOptions, onRefused: () => void) {
    this.#writer = writer;
    this.#codec = codec;
    this.#lengthSize = codec.lengthSize ?? 2;
    this.#copyMax = Math.min(COPY_BELOW - 1, maxAnetBody(codec));
    this.#onRefused = onRefused;
  }

  /** Frames waiting for the end of the tick. */
  get size(): number {
    return this.#count;
  }

  /**
   * Queues the frame `taskId, body`; false when the writer refuses a large one (closed, over its
   * limits). A body over the codec's limit throws MaxLenExceededError and queues nothing.
   */
  add(taskId: number, body: Uint8Array): boolean {
    if (body.length > this.#copyMax) {
      const parts = encodeAnetFrame(taskId, body, this.#codec);
      this.#handOver();
      return this.#writer.write(parts);
    }
    const index = this.#count++;
    this.#taskIds[index] = taskId;
    this.#bodies[index] = body;
    this.#bytes += this.#lengthSize + TASK_ID_BYTES + body.length;
    if (this.#bytes >= INLINE_FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushSoon);
    }
    return true;
  }

  /** Writes the frames waiting now (the writer sends them unless its socket waits for 'drain'). */
  flush(): void {
    this.#scheduled = false;
    if (this.#handOver()) this.#writer.flush();
  }

  /** Drops the frames waiting (the connection is going away). */
  clear(): void {
    this.#bodies.fill(NO_BODY, 0, this.#count);
    this.#count = this.#bytes = 0;
  }

  /** Gives the frames waiting to the writer as one buffer; true if there were any. */
  #handOver(): boolean {
    if (this.#count === 0) return false;
    const batch = this.#encode();
    if (!this.#writer.write([batch])) this.#onRefused();
    return true;
  }

  #encode(): Buffer {
    const out = Buffer.allocUnsafe(this.#bytes);
    const wide = this.#lengthSize === 4;
    const taskIds = this.#taskIds;
    const bodies = this.#bodies;
    let at = 0;
    for (let i = 0; i < this.#count; i++) {
      const body = bodies[i]!;
      // Dropped as it is copied: the arrays are reused, and must not keep bodies alive.
      bodies[i] = NO_BODY;
      // Byte stores, not writeUInt16BE/32BE: those validate their arguments, which cost more than the frame's copy.
      const length = TASK_ID_BYTES + body.length;
      if (wide) at = storeU32(out, at, length);
      else {
        out[at++] = length >>> 8;
        out[at++] = length;
      }
      at = storeU32(out, at, taskIds[i]!);
      out.set(body, at);
      at += body.length;
    }
    this.#count = this.#bytes = 0;
    return out;
  }
}

/** Stores `value` (a u32) big-endian at `at`; returns the offset after it. */
function storeU32(out: Buffer, at: number, value: number): number {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
  return at + 4;
}

/**
 * Throws MaxLenExceededError when `body` is over `max` (maxAnetBody of `codec`). Protocol's encoder
 * makes the error, so its type and wording are defined in one place; a body within the limit costs
 * one comparison.
 */
export function refuseOversizedBody(body: Uint8Array, max: number, codec: AnetCodecOptions): void {
  if (body.length > max) encodeAnetFrame(0, body, codec);
}
