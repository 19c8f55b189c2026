import type { Socket } from "node:net";
import {
  CONNECTION_ID,
  encodeErrorBody,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  ProtocolError,
} from "@switchyard/protocol";
import { disconnectedBy, IdleTimeoutError } from "../errors.js";
import { ReadWatch } from "./read-watch.js";
import type { SocketReader } from "./socket-reader.js";
import { SocketWriter, type SocketWriterOptions } from "./socket-writer.js";

/** Default ms without any byte received before a connection is closed as idle: 2 min. */
export const DEFAULT_READ_TIMEOUT = 120_000;

/** A connection's limits that a client's user may set: the writer's, and the read timeout. */
export interface ConnectionLimits extends SocketWriterOptions {
  /**
   * Milliseconds with nothing received before the connection is closed; 0 disables. Default 2 min.
   * Only bytes received count: what this side writes does not keep a silent peer's connection open.
   */
  readTimeout?: number;
}

/** Options of a ConnectionContext: its limits, and how its owner has it read frames. */
export interface ConnectionOptions extends ConnectionLimits {
  /** Largest frame payload accepted, in bytes. Default MAX_PAYLOAD. */
  maxPayload?: number;
  /** Frames keep a CHUNK or RESPONSE_CHUNK read in pieces as `parts` (FrameDecoder's keepChunkParts): for relays. */
  keepChunkParts?: boolean;
  /**
   * The reader whose `onread` the socket was made with (clients: net.connect takes it, a server's
   * sockets cannot): frames are read through it, large payloads straight into place. Without it
   * the socket's 'data' events are decoded.
   */
  reader?: SocketReader<Frame>;
}

/** What a ConnectionContext tells its owner. */
export interface ConnectionHandlers {
  /** Called for every frame received, in order. A throw here closes the connection with that error. */
  onFrame(frame: Frame): void;
  /**
   * Called once per silence when nothing was received for half the read timeout: the owner may
   * PING a peer it waits for, so that a live one answers before the read timeout closes it.
   */
  onQuiet?(): void;
  /** Called when this connection broke the protocol and was answered ERROR(PROTOCOL_ERROR) (for counting, logging). */
  onViolation?(violation: ProtocolError): void;
  /**
   * Called once when the connection is closed: `error` says why (ProtocolError, SlowPeerError,
   * IdleTimeoutError, DisconnectedError with Node's error as cause), undefined for a clean close.
   */
  onClose(error: Error | undefined): void;
}

/** Lifecycle: open → closing (flushing before end) → closed. */
export type ConnectionState = "open" | "closing" | "closed";

/** An error as the wire carries it: the table's number and a message. */
export interface WireError {
  wireCode: number;
  message: string;
}

let nextConnectionId = 1;

/**
 * One socket speaking broker frames: reads through FrameDecoder, writes through a batching,
 * bounded SocketWriter, closes idle and slow peers, and answers a protocol violation with
 * ERROR(PROTOCOL_ERROR) on requestId zero before closing. Used by the broker and by both clients.
 */
export class ConnectionContext {
  /** Process-unique number, for logs and maps. */
  readonly id = nextConnectionId++;
  readonly #socket: Socket;
  readonly #handlers: ConnectionHandlers;
  readonly #decoder: FrameDecoder;
  readonly #writer: SocketWriter;
  #state: ConnectionState = "open";
  #closeError: Error | undefined;
  /** Reading is paused until the error queue is written (see #onFrames). */
  #readsPaused = false;
  readonly #resumeReads = () => {
    this.#readsPaused = false;
    if (this.#state === "open") this.#socket.resume();
  };
  /** Made only when someone waits for the close (most connections never need one). */
  #closed: Promise<void> | null = null;
  #onClosed: (() => void) | null = null;
  readonly #readWatch: ReadWatch | null;
  /** Set while a probe() waits for the peer to send anything. */
  #probeTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#decoder = new FrameDecoder({ maxPayload: options.maxPayload, keepChunkParts: options.keepChunkParts });
    this.#writer = new SocketWriter(socket, options, (error) => this.destroy(error));
    socket.setNoDelay(true);
    const readTimeout = options.readTimeout ?? DEFAULT_READ_TIMEOUT;
    this.#readWatch =
      readTimeout > 0
        ? new ReadWatch(socket, readTimeout, {
            onQuiet: () => {
              if (this.#state === "open") handlers.onQuiet?.();
            },
            onIdle: (silentMs) =>
              this.destroy(new IdleTimeoutError(`nothing received for ${Math.round(silentMs)} ms (read timeout ${readTimeout} ms); connection closed as idle`)),
          })
        : null;
    if (options.reader === undefined) socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    else options.reader.attach(this.#decoder, { frames: (frames) => this.#onFrames(frames), failed: (error) => this.protocolViolation(error) });
    socket.on("error", (error) => {
      this.#closeError ??= disconnectedBy(error, "connection failed");
    });
    socket.once("close", () => {
      this.#state = "closed";
      this.#readWatch?.stop();
      if (this.#probeTimer !== null) clearTimeout(this.#probeTimer);
      this.#writer.close();
      this.#handlers.onClose(this.#closeError);
      this.#onClosed?.();
    });
  }

  /** Where it is: open, closing (flushing, then end) or closed. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** `host:port` of the peer, for logs. */
  get remoteAddress(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  /** Bytes received on the socket so far (Node's count). */
  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  /** Bytes handed to the kernel so far (Node's count). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /**
   * performance.now() ms by which the peer last sent something (or the connection opened), as the
   * read-timeout watch samples it: at most readTimeout/8 later than the byte. Null without a read timeout.
   */
  get lastReceivedAt(): number | null {
    return this.#readWatch?.heardAt ?? null;
  }

  /** Frames waiting in the regular write queue. */
  get queuedFrames(): number {
    return this.#writer.queuedFrames;
  }

  /** Frames waiting in the error write queue. */
  get queuedErrorFrames(): number {
    return this.#writer.queuedErrorFrames;
  }

  /** Bytes waiting to be written, including the socket's own buffer. */
  get queuedBytes(): number {
    return this.#writer.queuedBytes;
  }

  /** True while the peer's socket is full: producers of large bodies should await `drained()`. */
  get blocked(): boolean {
    return this.#writer.blocked;
  }

  /** Resolves when everything queued has been handed to the kernel (or the connection closed). */
  drained(): Promise<void> {
    return this.#writer.drained();
  }

  /** Queues a frame. False when it cannot be queued (queue full or not open): the caller refuses the work. */
  sendFrame(type: FrameType, flags: number, requestId: Uint8Array, ...payload: Uint8Array[]): boolean {
    return this.sendFrameParts(type, flags, requestId, payload);
  }

  /** sendFrame() for a payload already held as an array of parts (a relayed frame's), passed on as it is. */
  sendFrameParts(type: FrameType, flags: number, requestId: Uint8Array, payload: readonly Uint8Array[]): boolean {
    if (this.#state !== "open") return false;
    return this.#writer.writeFrame(type, flags, requestId, payload);
  }

  /**
   * Queues a frame of header only that the caller bounds itself (a CANCEL: one per request held; a
   * probe's PING: one at a time), never refused while open. See SocketWriter.writeControl.
   */
  sendControl(type: FrameType, requestId: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    return this.#writer.writeControl(type, requestId);
  }

  /**
   * Queues an ERROR frame in the priority queue. `prefix` goes before the error body (a routing
   * header, for errors a provider sends). False when it cannot be queued.
   */
  sendError(requestId: Uint8Array, error: WireError, prefix?: Uint8Array): boolean {
    if (this.#state === "closed") return false;
    const body = encodeErrorBody(error);
    const frame = prefix === undefined ? encodeFrame(FrameType.ERROR, 0, requestId, body) : encodeFrame(FrameType.ERROR, 0, requestId, prefix, body);
    return this.#writer.writeError(frame);
  }

  /**
   * Asks the peer whether it is alive: sends a PING on the connection id and closes the connection
   * (IdleTimeoutError) unless something — the PONG or any other byte — is received within
   * `timeoutMs`. A probe already waiting makes this a no-op, so a burst of reasons costs one PING.
   */
  probe(timeoutMs: number): void {
    if (this.#state !== "open" || this.#probeTimer !== null) return;
    const bytesRead = this.#socket.bytesRead;
    // Never refused for a full write queue: a refused PING would leave a live peer with nothing to answer.
    this.sendControl(FrameType.PING, CONNECTION_ID);
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (this.#socket.bytesRead === bytesRead) {
        this.destroy(new IdleTimeoutError(`nothing received within ${timeoutMs} ms of a PING, not even its PONG; connection closed as dead`));
      }
    }, timeoutMs);
    this.#probeTimer.unref();
  }

  /** Flushes what is queued, ends the socket, and resolves once it is closed. Idempotent. */
  async close(error?: Error): Promise<void> {
    if (this.#state === "open") {
      this.#state = "closing";
      this.#closeError ??= error;
      this.#writer.flush();
      await this.#writer.drained();
      this.#socket.end();
    }
    return this.#whenClosed();
  }

  #whenClosed(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#closed ??= new Promise((resolve) => {
      this.#onClosed = resolve;
    });
    return this.#closed;
  }

  /** Closes now, dropping what is queued; `error` is what onClose reports. Idempotent. */
  destroy(error?: Error): void {
    if (this.#state === "closed") return;
    this.#closeError ??= error;
    this.#state = "closing";
    this.#writer.close();
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#state !== "open") return;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.protocolViolation(error);
      return;
    }
    this.#onFrames(frames);
  }

  #onFrames(frames: Frame[]): void {
    for (const frame of frames) {
      if (this.#state !== "open") return;
      try {
        this.#handlers.onFrame(frame);
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
    // Errors are never refused (see SocketWriter), so what bounds them for a peer that sends
    // refusable frames without reading its answers is this: past the mark, read nothing more from
    // it until they are written. A prompt reader is paused for a tick at most; one that never
    // reads stays paused until the write timeout closes it as a slow peer.
    if (this.#writer.backlogged && !this.#readsPaused) {
      this.#readsPaused = true;
      this.#socket.pause();
      void this.#writer.drained().then(this.#resumeReads);
    }
  }

  /**
   * docs/protocol.md §1.16's answer to bad input, whether the decoder or the owner found it: ERROR(PROTOCOL_ERROR)
   * on requestId zero, flush, close this connection only. Later frames are not delivered.
   */
  protocolViolation(error: unknown): void {
    if (this.#state !== "open") return;
    const violation = error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error });
    this.sendError(CONNECTION_ID, violation);
    void this.close(violation);
    this.#handlers.onViolation?.(violation);
  }
}
