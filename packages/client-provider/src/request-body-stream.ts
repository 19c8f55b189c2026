import { Readable } from "node:stream";

/**
 * A request body as a handler reads it in stream mode (`ctx.body`): a Node Readable of Buffers,
 * so `for await (const chunk of ctx.body)`, `pipeline(ctx.body, hash)` and `.pipe()` all work. It
 * is in object mode, as `Readable.from()` is: each read yields one Buffer as it arrived (of up to a
 * frame's payload), never a copy joining several.
 *
 * Bytes the provider received wait in this object's own queue, not in the Readable's buffer: one
 * chunk moves into the Readable only when the reader asks for more (`_read`), so "handed to the
 * reader" is a moment we see, and `onRead` is told of it (where credit is granted once flow control
 * is in place: a slow reader then slows its sender and nothing else).
 *
 *   deliver(a) deliver(b) deliver(c)            _read() → push(a)       (onRead(a.length))
 *   ┌──────────── waiting ───────────┐          ┌─ Readable's buffer ─┐
 *   │ a │ b │ c │                    │  ──────► │ a                   │ ──► reader
 *   └────────────────────────────────┘          └─────────────────────┘
 *   unread = bytes in waiting (bounded by the caller through `unread`)
 *
 * It ends when the body did (end()), or is destroyed: with the typed error that ended the request
 * (CancelledError, TimeoutError, DisconnectedError…), or without one when the request was answered
 * before its body was read (a reader still iterating then gets ERR_STREAM_PREMATURE_CLOSE: the
 * rest will never come). Like Node's http IncomingMessage, it emits 'error' only when someone
 * listens: a handler that never touched its body does not crash the process when the request is
 * cancelled.
 */
export class RequestBodyStream extends Readable {
  /** Chunks received and not yet handed to the reader, oldest first (from #head on). */
  #waiting: Buffer[] = [];
  #head = 0;
  #unread = 0;
  /** The reader asked for more while nothing was waiting: the next chunk goes straight through. */
  #wanted = false;
  /** The body's last byte was delivered. */
  #ended = false;
  readonly #onRead: ((bytes: number) => void) | null;

  /** `onRead(bytes)`: told each time `bytes` more were handed to the reader. */
  constructor(onRead: ((bytes: number) => void) | null = null) {
    // One Buffer per read(), never a concatenation: in byte mode read() joins what is buffered — and
    // _read, called from read() itself, has just pushed the next chunk — copying every MiB once more
    // (Readable's fromList was a sixth of a streaming provider's CPU). A high water mark of one chunk
    // keeps at most one chunk handed over ahead of the reader, so credit follows its reading.
    super({ objectMode: true, highWaterMark: 1 });
    this.#onRead = onRead;
  }

  /** Bytes received and not yet handed to the reader. */
  get unread(): number {
    return this.#unread;
  }

  /** True once the last byte was handed over, or the stream was destroyed. */
  get finished(): boolean {
    return this.destroyed || (this.#ended && this.#unread === 0);
  }

  /** The next bytes of the body. Ignored once destroyed (the rest of the body is discarded). */
  deliver(bytes: Buffer): void {
    if (this.destroyed || this.#ended || bytes.length === 0) return;
    if (this.#wanted) {
      this.#wanted = false;
      this.#handOver(bytes);
      return;
    }
    this.#waiting.push(bytes);
    this.#unread += bytes.length;
  }

  /** The body is complete: the reader sees its end once it has read what waits. */
  end(): void {
    if (this.destroyed || this.#ended) return;
    this.#ended = true;
    if (this.#unread === 0 && this.#wanted) {
      this.#wanted = false;
      this.push(null);
    }
  }

  override _read(): void {
    if (this.#unread === 0) {
      if (this.#ended) this.push(null);
      else this.#wanted = true;
      return;
    }
    // One chunk per call: the Readable asks again once its reader took it.
    const bytes = this.#waiting[this.#head]!;
    this.#waiting[this.#head++] = EMPTY;
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#unread -= bytes.length;
    this.#handOver(bytes);
    if (this.#ended && this.#unread === 0) this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#waiting = [];
    this.#head = 0;
    this.#unread = 0;
    // No listener, no 'error': nobody is reading, and an unheard 'error' would crash the process.
    callback(error !== null && this.listenerCount("error") > 0 ? error : null);
  }

  #handOver(bytes: Buffer): void {
    this.push(bytes);
    this.#onRead?.(bytes.length);
  }
}

const EMPTY = Buffer.alloc(0);

/** A whole body already in memory as a stream (`ctx.body` in buffer mode): one chunk, then the end. */
export function bodyStreamOf(payload: Buffer): RequestBodyStream {
  const stream = new RequestBodyStream();
  stream.deliver(payload);
  stream.end();
  return stream;
}
