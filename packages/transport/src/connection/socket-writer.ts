import type { Socket } from "node:net";
import { SlowPeerError } from "../errors.js";

const EMPTY = Buffer.alloc(0);

/** Default most frames waiting in the regular queue of one connection. */
export const DEFAULT_MAX_WRITE_QUEUE_FRAMES = 8192;
/**
 * Default error frames waiting (in the error queue, flushed before the regular one) past which the
 * connection stops reading its peer until they are written: 2048. Never a refusal (see writeError).
 */
export const DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES = 2048;
/** Default most bytes queued for one connection, ours plus the socket's own buffer: 64 MiB. */
export const DEFAULT_MAX_WRITE_QUEUE_BYTES = 64 * 1024 * 1024;
/** Default ms a peer may leave its socket undrained before it is closed as a slow peer. */
export const DEFAULT_WRITE_TIMEOUT = 5000;

/** Parts below this size are copied into the batch; larger ones are written as they are. */
const COPY_BELOW = 16 * 1024;
/**
 * Sizes of the slabs small frames are encoded into. A writer starts small (an idle connection
 * holds a quarter KiB) and doubles its next slab each time one fills, up to 256 KiB, so a busy connection
 * batches a whole tick into one region.
 */
const MIN_SLAB = 256;
const MAX_SLAB = 256 * 1024;
/**
 * Slabs up to this size come from Node's shared Buffer pool and are let go after every flush, so
 * the many quiet connections of a broker hold no slab of their own between writes.
 */
const POOLED_SLAB = 4 * 1024;
/**
 * Past this many queued bytes the writer flushes at the end of the current synchronous run (a
 * microtask) instead of the end of the tick: big bodies go out without waiting for the rest of the
 * event loop, and the frames queued right behind them (a body's END) still share their write.
 */
const EARLY_FLUSH_BYTES = 256 * 1024;

/** Limits of a SocketWriter; every field optional, defaults above. */
export interface SocketWriterOptions {
  maxWriteQueueFrames?: number;
  /** Error frames waiting past which `backlogged` is true (the owner stops reading its peer). Default 2048. */
  maxWriteQueueErrorFrames?: number;
  /** Bytes, counting the socket's own buffer. */
  maxWriteQueueBytes?: number;
  /** Milliseconds. */
  writeTimeout?: number;
}

/**
 * Batching, bounded writer of one socket. Frames queue until the end of the tick (setImmediate),
 * then go out as one write (writev when there are several parts). Small frames are encoded or
 * copied straight into a slab, so a tick's worth of small frames is one contiguous buffer built
 * with one copy and no per-frame allocation; large parts are queued uncopied. Errors have their
 * own queue, always flushed first. It knows no wire format: a WireFormat (BrokerFrames; anet's
 * AnetFrames) encodes each frame's head into the slab between beginFrame() and endFrame().
 *
 *   slab:  [ sent … | f1 f2 f3 (region) | free … ]     the region becomes one part at flush
 *   write/beginFrame ──► regular [region, big part, region …] (≤ maxWriteQueueFrames) ─┐
 *   writeError ────────► errors  [e e …]   (backlogged past maxWriteQueueErrorFrames) ─┴► flush: errors, then regular ──► socket
 *
 * A region handed to the socket is never written again: the slab only fills forward, and a new
 * one is allocated when it is full.
 *
 * When socket.write() says the kernel buffer is full, nothing more is written until 'drain'; if
 * 'drain' does not come within writeTimeout, `onFailure(SlowPeerError)` is called (the owner
 * destroys the connection). A frame that does not fit the limits is refused (write returns false),
 * never dropped silently.
 *
 * An error frame is never refused while the writer is open: it is a request's only outcome, and a
 * burst of them in one turn (a provider dying with thousands of requests) says nothing about
 * whether the peer reads. Their number is bounded where they are made, not here: one per request
 * the peer had open (bounded by the broker's request limits) or per frame of the peer's that was
 * refused — and the owner stops reading the peer while the error queue is `backlogged`, so a peer
 * that floods refusable frames without reading gets at most one read's worth beyond the mark.
 */
export class SocketWriter {
  readonly #socket: Socket;
  readonly #maxFrames: number;
  readonly #maxErrorFrames: number;
  readonly #maxBytes: number;
  readonly #writeTimeout: number;
  readonly #onFailure: (error: Error) => void;
  #regular: Buffer[] = [];
  #regularFrames = 0;
  #slab: Buffer = EMPTY;
  #nextSlabSize = MIN_SLAB;
  #slabEnd = 0;
  #regionStart = 0;
  #errors: Buffer[] = [];
  #errorFrames = 0;
  #bytes = 0;
  #scheduled = false;
  #blocked = false;
  #closed = false;
  #drainTimer: NodeJS.Timeout | null = null;
  #drainWaiters: Array<() => void> = [];
  readonly #flushSoon = () => this.flush();
  #flushingEarly = false;
  readonly #flushEarly = () => {
    this.#flushingEarly = false;
    this.flush();
  };

  constructor(socket: Socket, options: SocketWriterOptions, onFailure: (error: Error) => void) {
    this.#socket = socket;
    this.#maxFrames = options.maxWriteQueueFrames ?? DEFAULT_MAX_WRITE_QUEUE_FRAMES;
    this.#maxErrorFrames = options.maxWriteQueueErrorFrames ?? DEFAULT_MAX_WRITE_QUEUE_ERROR_FRAMES;
    this.#maxBytes = options.maxWriteQueueBytes ?? DEFAULT_MAX_WRITE_QUEUE_BYTES;
    this.#writeTimeout = options.writeTimeout ?? DEFAULT_WRITE_TIMEOUT;
    this.#onFailure = onFailure;
    socket.on("drain", () => this.#onDrain());
  }

  /** Frames waiting in the regular queue. */
  get queuedFrames(): number {
    return this.#regularFrames;
  }

  /** Frames waiting in the error queue. */
  get queuedErrorFrames(): number {
    return this.#errorFrames;
  }

  /** True while maxWriteQueueErrorFrames or more error frames wait: the owner should stop reading its peer until drained(). */
  get backlogged(): boolean {
    return this.#errorFrames >= this.#maxErrorFrames;
  }

  /** Bytes waiting: in our queues plus the socket's own buffer. */
  get queuedBytes(): number {
    return this.#bytes + this.#socket.writableLength;
  }

  /** True while the socket is full and writes wait for 'drain'. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Queues a frame given as parts; false if the regular queue or the byte limit is full, or the writer is closed. */
  write(parts: Buffer[]): boolean {
    const size = byteLength(parts);
    if (!this.#admits(size)) return false;
    for (const part of parts) this.#append(part);
    this.#regularFrames++;
    this.#enqueued(size);
    return true;
  }

  /**
   * The batch buffer a wire format encodes a frame's head into, at the offset beginFrame() returned;
   * valid until endFrame().
   */
  get slab(): Buffer {
    return this.#slab;
  }

  /**
   * Starts a frame whose head a wire format encodes itself (BrokerFrames; anet's AnetFrames), straight
   * into the batch with no intermediate buffer: admits a frame of a `headSize`-byte head and
   * `bodyLength` body bytes and makes room for the head in `slab`. Returns where the head goes, or
   * -1 when the frame is refused (the refusals of write()). Encode the head there, then call
   * endFrame(). Nothing counts until endFrame(), so a head encoder that throws (a caller's bug)
   * leaves the batch intact.
   */
  beginFrame(headSize: number, bodyLength: number): number {
    if (!this.#admits(headSize + bodyLength)) return -1;
    return this.#beginHead(headSize);
  }

  /**
   * beginFrame() for a frame of head only that the caller bounds itself (a CANCEL: one per request
   * it holds on this connection; a probe's PING: one at a time). Like writeError, refused (-1) only
   * once the writer is closed, and queued in the regular queue behind what was queued for the same
   * request, past maxWriteQueueFrames too: a burst of them in one turn (a consumer leaving with
   * thousands of requests at one provider) must not lose any.
   */
  beginControlFrame(headSize: number): number {
    if (this.#closed) return -1;
    return this.#beginHead(headSize);
  }

  /**
   * Ends the frame begun with a head of `headSize` bytes: counts it and queues its body parts
   * (`bodyLength` bytes in all, as given to beginFrame), and schedules the flush.
   */
  endFrame(headSize: number, bodyLength: number, body: readonly Uint8Array[]): void {
    this.#slabEnd += headSize;
    this.#regularFrames++;
    for (const part of body) this.#append(part);
    this.#enqueued(headSize + bodyLength);
  }

  /** endFrame() for a body of one part. */
  endFrameWith(headSize: number, body: Uint8Array): void {
    this.#slabEnd += headSize;
    this.#regularFrames++;
    this.#append(body);
    this.#enqueued(headSize + body.length);
  }

  /**
   * Queues an error frame ahead of regular frames; false only once the writer is closed. Never
   * refused for a limit (see the class comment): past maxWriteQueueErrorFrames it is `backlogged`.
   */
  writeError(parts: Buffer[]): boolean {
    if (this.#closed) return false;
    for (const part of parts) this.#errors.push(part);
    this.#errorFrames++;
    this.#enqueued(byteLength(parts));
    return true;
  }

  /** Resolves once the queues are empty and the socket has drained (or the writer closed). */
  drained(): Promise<void> {
    if (this.#closed || (this.#bytes === 0 && !this.#blocked)) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Writes everything queued now, unless the socket is waiting for 'drain'. */
  flush(): void {
    this.#scheduled = false;
    if (this.#blocked || this.#closed || this.#bytes === 0) return;
    this.#seal();
    // A nearly full slab is left behind now rather than split across the next batch's write; a
    // small one is always let go (it is a slice of Node's pool: cheap to take again).
    if (this.#slabEnd > (this.#slab.length * 3) / 4) this.#dropSlab(true);
    else if (this.#slab.length <= POOLED_SLAB) this.#dropSlab(false);
    const parts = this.#errors.length === 0 ? this.#regular : this.#errors.concat(this.#regular);
    const ok = writeAll(this.#socket, parts);
    this.#errors = [];
    this.#regular = [];
    this.#errorFrames = this.#regularFrames = this.#bytes = 0;
    if (!ok || this.#socket.writableNeedDrain) this.#block();
    else this.#wakeDrainWaiters();
  }

  /** Stops writing and drops what is queued (the connection is going away). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#regionStart = this.#slabEnd;
    this.#regular = [];
    this.#errors = [];
    this.#errorFrames = this.#regularFrames = this.#bytes = 0;
    this.#clearDrainTimer();
    this.#wakeDrainWaiters();
  }

  #beginHead(headSize: number): number {
    this.#reserve(headSize);
    return this.#slabEnd;
  }

  #admits(size: number): boolean {
    return !this.#closed && this.#regularFrames < this.#maxFrames && this.queuedBytes + size <= this.#maxBytes;
  }

  /** Queues bytes: copied into the slab when small, else as their own part (after the region so far). */
  #append(part: Uint8Array): void {
    if (part.length === 0) return;
    if (part.length >= COPY_BELOW) {
      this.#seal();
      this.#regular.push(Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.length));
      return;
    }
    this.#reserve(part.length);
    this.#slab.set(part, this.#slabEnd);
    this.#slabEnd += part.length;
  }

  /**
   * Makes room for `bytes` in the slab, starting a new (larger) slab when this one is full. A
   * small region written so far moves into the new slab, so a tick's frames stay one write; a
   * large one is queued as it is (a writev of two parts costs less than copying it).
   */
  #reserve(bytes: number): void {
    if (this.#slab.length - this.#slabEnd >= bytes) return;
    const carried = this.#slabEnd - this.#regionStart < COPY_BELOW ? this.#slab.subarray(this.#regionStart, this.#slabEnd) : EMPTY;
    if (carried === EMPTY) this.#seal();
    if (this.#slab.length > 0) this.#nextSlabSize = Math.min(MAX_SLAB, this.#slab.length * 2);
    const size = Math.max(this.#nextSlabSize, carried.length + bytes);
    this.#slab = size <= POOLED_SLAB ? Buffer.allocUnsafe(size) : Buffer.allocUnsafeSlow(size);
    this.#regionStart = 0;
    this.#slabEnd = carried.copy(this.#slab, 0);
  }

  /** Queues the slab bytes written since the last seal as one part. */
  #seal(): void {
    if (this.#slabEnd === this.#regionStart) return;
    this.#regular.push(this.#slab.subarray(this.#regionStart, this.#slabEnd));
    this.#regionStart = this.#slabEnd;
  }

  /** Lets the slab go (its regions stay with the socket); `grow` doubles the next one's size. */
  #dropSlab(grow: boolean): void {
    if (grow) this.#nextSlabSize = Math.min(MAX_SLAB, this.#slab.length * 2);
    this.#slab = EMPTY;
    this.#slabEnd = this.#regionStart = 0;
  }

  #enqueued(size: number): void {
    this.#bytes += size;
    if (this.#blocked) return;
    if (this.#bytes >= EARLY_FLUSH_BYTES) {
      if (!this.#flushingEarly) {
        this.#flushingEarly = true;
        queueMicrotask(this.#flushEarly);
      }
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushSoon);
    }
  }

  #block(): void {
    this.#blocked = true;
    this.#drainTimer ??= setTimeout(() => {
      this.#drainTimer = null;
      this.#onFailure(new SlowPeerError(`peer did not drain its socket within ${this.#writeTimeout} ms; closed as a slow peer`));
    }, this.#writeTimeout);
  }

  #onDrain(): void {
    this.#blocked = false;
    this.#clearDrainTimer();
    if (this.#bytes > 0) this.flush();
    else this.#wakeDrainWaiters();
  }

  #clearDrainTimer(): void {
    if (this.#drainTimer !== null) clearTimeout(this.#drainTimer);
    this.#drainTimer = null;
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

function byteLength(parts: Buffer[]): number {
  let size = 0;
  for (const part of parts) size += part.length;
  return size;
}

/** Writes parts in order: one write, or one writev for several. Returns socket.write's verdict. */
function writeAll(socket: Socket, parts: Buffer[]): boolean {
  if (parts.length === 1) return socket.write(parts[0]!);
  socket.cork();
  let ok = true;
  for (const part of parts) ok = socket.write(part) && ok;
  socket.uncork();
  return ok;
}
