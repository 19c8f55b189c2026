import type { Socket } from "node:net";
import { SlowPeerError } from "./errors.js";

/** Default most frames waiting in the regular queue of one connection. */
export const DEFAULT_MAX_QUEUED_FRAMES = 8192;
/** Default most frames waiting in the error queue (flushed before the regular one). */
export const DEFAULT_MAX_QUEUED_ERROR_FRAMES = 2048;
/** Default most bytes queued for one connection, ours plus the socket's own buffer: 64 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Default ms a peer may leave its socket undrained before it is closed as a slow peer. */
export const DEFAULT_WRITE_TIMEOUT = 5000;

/** Parts below this size are copied into one buffer per write; larger ones are written as they are. */
const COALESCE_BELOW = 16 * 1024;
/** Past this many queued bytes a write flushes inline instead of waiting for the end of the tick. */
const INLINE_FLUSH_BYTES = 256 * 1024;

/** Limits of a SocketWriter; every field optional, defaults above. */
export interface SocketWriterOptions {
  maxQueuedFrames?: number;
  maxQueuedErrorFrames?: number;
  /** Bytes, counting the socket's own buffer. */
  maxQueuedBytes?: number;
  /** Milliseconds. */
  writeTimeout?: number;
}

/**
 * Batching, bounded writer of one socket. Frames (each a list of buffers) queue until the end of
 * the tick (setImmediate), then go out as one corked write: small parts gathered into one buffer,
 * large ones uncopied. Errors have their own queue, always flushed first.
 *
 *   write(frame) ──► regular [f f f …]  (≤ maxQueuedFrames)  ─┐
 *   writeError(frame) ► errors [e e …]   (≤ maxQueuedErrorFrames) ─┴► flush: errors, then regular ──► socket
 *
 * When socket.write() says the kernel buffer is full, nothing more is written until 'drain'; if
 * 'drain' does not come within writeTimeout, `onFailure(SlowPeerError)` is called (the owner
 * destroys the connection). A frame that does not fit the limits is refused (write returns false),
 * never dropped silently.
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
  #errors: Buffer[] = [];
  #errorFrames = 0;
  #bytes = 0;
  #scheduled = false;
  #blocked = false;
  #closed = false;
  #drainTimer: NodeJS.Timeout | null = null;
  #drainWaiters: Array<() => void> = [];
  readonly #flushSoon = () => this.flush();

  constructor(socket: Socket, options: SocketWriterOptions, onFailure: (error: Error) => void) {
    this.#socket = socket;
    this.#maxFrames = options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;
    this.#maxErrorFrames = options.maxQueuedErrorFrames ?? DEFAULT_MAX_QUEUED_ERROR_FRAMES;
    this.#maxBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
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

  /** Bytes waiting: in our queues plus the socket's own buffer. */
  get queuedBytes(): number {
    return this.#bytes + this.#socket.writableLength;
  }

  /** True while the socket is full and writes wait for 'drain'. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Queues a frame; false if the regular queue or the byte limit is full, or the writer is closed. */
  write(parts: Buffer[]): boolean {
    const size = byteLength(parts);
    if (this.#closed || this.#regularFrames >= this.#maxFrames || this.queuedBytes + size > this.#maxBytes) return false;
    for (const part of parts) this.#regular.push(part);
    this.#regularFrames++;
    this.#enqueued(size);
    return true;
  }

  /** Queues an error frame ahead of regular frames; false if the error queue is full or closed. */
  writeError(parts: Buffer[]): boolean {
    if (this.#closed || this.#errorFrames >= this.#maxErrorFrames) return false;
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
    const socket = this.#socket;
    socket.cork();
    let ok = writeGathered(socket, this.#errors);
    ok = writeGathered(socket, this.#regular) && ok;
    socket.uncork();
    this.#errors = [];
    this.#regular = [];
    this.#errorFrames = this.#regularFrames = this.#bytes = 0;
    if (!ok || socket.writableNeedDrain) this.#block();
    else this.#wakeDrainWaiters();
  }

  /** Stops writing and drops what is queued (the connection is going away). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#regular = [];
    this.#errors = [];
    this.#errorFrames = this.#regularFrames = this.#bytes = 0;
    this.#clearDrainTimer();
    this.#wakeDrainWaiters();
  }

  #enqueued(size: number): void {
    this.#bytes += size;
    if (this.#blocked) return;
    if (this.#bytes >= INLINE_FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
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

/** Writes parts in order, gathering runs of small ones into one buffer. Returns socket.write's verdict. */
function writeGathered(socket: Socket, parts: Buffer[]): boolean {
  let ok = true;
  let run: Buffer[] = [];
  let runBytes = 0;
  for (const part of parts) {
    if (part.length < COALESCE_BELOW) {
      run.push(part);
      runBytes += part.length;
      continue;
    }
    if (run.length > 0) ok = socket.write(gather(run, runBytes)) && ok;
    run = [];
    runBytes = 0;
    ok = socket.write(part) && ok;
  }
  if (run.length > 0) ok = socket.write(gather(run, runBytes)) && ok;
  return ok;
}

function gather(run: Buffer[], bytes: number): Buffer {
  return run.length === 1 ? run[0]! : Buffer.concat(run, bytes);
}
