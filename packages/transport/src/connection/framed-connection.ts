import type { Socket } from "node:net";
import { disconnectedBy, IdleTimeoutError } from "../errors.js";
import { ReadWatch } from "./read-watch.js";
import type { InPlaceDecoder, SocketReader } from "./socket-reader.js";
import { SocketWriter, type SocketWriterOptions } from "./socket-writer.js";
import type { WireFormat } from "./wire-format.js";

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

/** Options of a FramedConnection: its limits, and how it reads. */
export interface FramedConnectionOptions<In> extends ConnectionLimits {
  /**
   * The reader whose `onread` the socket was made with (clients: net.connect takes it, a server's
   * sockets cannot): frames are read through it, large payloads straight into place. Without it
   * the socket's 'data' events are decoded.
   */
  reader?: SocketReader<In>;
  /**
   * Whether a reply is awaited now (anet: requests in flight): silence counts toward readTimeout
   * only while it is (see ReadWatch). Default: always.
   */
  awaitingReply?: () => boolean;
}

/** What a FramedConnection tells its owner. */
export interface FramedConnectionHandlers<In> {
  /** The frames one read completed, in order (never none). A throw closes the connection with that error. */
  onFrames(frames: In[]): void;
  /**
   * The bytes received broke the wire format (`error` is the decoder's). Nothing more is decoded;
   * the owner answers as its protocol says and closes or destroys the connection.
   */
  onViolation(error: unknown): void;
  /**
   * Called once per silence when nothing was received for half the read timeout: the owner may
   * PING a peer it waits for, so that a live one answers before the read timeout closes it.
   */
  onQuiet?(): void;
  /**
   * Called once, when the socket has closed: `error` says why (SlowPeerError, IdleTimeoutError,
   * DisconnectedError with Node's error as cause, or the error given to close() or destroy()),
   * undefined for a clean close.
   */
  onClose(error: Error | undefined): void;
}

/** Lifecycle: open → closing (flushing before end) → closed. */
export type ConnectionState = "open" | "closing" | "closed";

let nextConnectionId = 1;

/**
 * One socket speaking one wire format — the single connection class under the broker, both
 * clients, and anet's client and server; the format (WireFormat: BrokerFrames, anet's AnetFrames)
 * is the strategy. It decodes what arrives (through the socket's 'data' events, or a SocketReader
 * that reads large payloads in place), hands the frames to its owner, writes through a batching,
 * bounded SocketWriter, closes a peer that stays silent past the read timeout (ReadWatch) or does
 * not drain its socket within the write timeout, and reports the close once, with its reason.
 *
 *   socket ──► decoder (format) ──► onFrames(frames) ──► owner
 *   owner ──► format.write(connection.writer, …) ──► SocketWriter ──► socket
 *
 * What a format's peer is sent when it breaks the format, and what the frames mean, is the
 * owner's (ConnectionContext for broker frames; anet's AnetConnection and the anet server).
 */
export class FramedConnection<In> {
  /** Process-unique number, for logs and maps. */
  readonly id = nextConnectionId++;
  /** The batch writer; a format encodes frames into it (check `state` first: a closed writer refuses). */
  readonly writer: SocketWriter;
  readonly #socket: Socket;
  readonly #handlers: FramedConnectionHandlers<In>;
  readonly #decoder: InPlaceDecoder<In>;
  readonly #readWatch: ReadWatch | null;
  #state: ConnectionState = "open";
  #closeError: Error | undefined;
  /** Reading is paused until the error queue is written (see #onFrames). */
  #pausedForErrors = false;
  /** Reading is paused by the owner (pauseReads). */
  #pausedByOwner = false;
  readonly #resumeAfterErrors = () => {
    this.#pausedForErrors = false;
    this.#resumeIfFree();
  };
  /** Made only when someone waits for the close (most connections never need one). */
  #closed: Promise<void> | null = null;
  #onClosed: (() => void) | null = null;

  constructor(socket: Socket, format: WireFormat<In>, handlers: FramedConnectionHandlers<In>, options: FramedConnectionOptions<In> = {}) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#decoder = format.decoder();
    this.writer = new SocketWriter(socket, options, (error) => this.destroy(error));
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
            ...(options.awaitingReply === undefined ? {} : { awaitingReply: options.awaitingReply }),
          })
        : null;
    if (options.reader === undefined) socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    else options.reader.attach(this.#decoder, { frames: (frames) => this.#onFrames(frames), failed: (error) => this.#onViolation(error) });
    socket.on("error", (error) => {
      this.#closeError ??= disconnectedBy(error, "connection failed");
    });
    socket.once("close", () => {
      this.#state = "closed";
      this.#readWatch?.stop();
      this.writer.close();
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

  /** Stops reading the peer until resumeReads() (the owner's backlog is full). Idempotent. */
  pauseReads(): void {
    this.#pausedByOwner = true;
    this.#socket.pause();
  }

  /** Reads the peer again after pauseReads() (unless the error queue still holds reading back). Idempotent. */
  resumeReads(): void {
    this.#pausedByOwner = false;
    this.#resumeIfFree();
  }

  /** Flushes what is queued, ends the socket, and resolves once it is closed. Idempotent. */
  async close(error?: Error): Promise<void> {
    if (this.#state === "open") {
      this.#state = "closing";
      this.#closeError ??= error;
      this.writer.flush();
      await this.writer.drained();
      this.#socket.end();
    }
    return this.#whenClosed();
  }

  /** Closes now, dropping what is queued; `error` is what onClose reports. Idempotent. */
  destroy(error?: Error): void {
    if (this.#state === "closed") return;
    this.#closeError ??= error;
    this.#state = "closing";
    this.writer.close();
    this.#socket.destroy();
  }

  #whenClosed(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#closed ??= new Promise((resolve) => {
      this.#onClosed = resolve;
    });
    return this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#state !== "open") return;
    let frames: In[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#onViolation(error);
      return;
    }
    if (frames.length > 0) this.#onFrames(frames);
  }

  #onFrames(frames: In[]): void {
    if (this.#state !== "open") return;
    try {
      this.#handlers.onFrames(frames);
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // Errors are never refused (see SocketWriter), so what bounds them for a peer that sends
    // refusable frames without reading its answers is this: past the mark, read nothing more from
    // it until they are written. A prompt reader is paused for a tick at most; one that never
    // reads stays paused until the write timeout closes it as a slow peer.
    if (this.writer.backlogged && !this.#pausedForErrors) {
      this.#pausedForErrors = true;
      this.#socket.pause();
      void this.writer.drained().then(this.#resumeAfterErrors);
    }
  }

  #onViolation(error: unknown): void {
    if (this.#state === "open") this.#handlers.onViolation(error);
  }

  #resumeIfFree(): void {
    if (this.#state === "open" && !this.#pausedForErrors && !this.#pausedByOwner) this.#socket.resume();
  }
}
