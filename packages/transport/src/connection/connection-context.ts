import type { Socket } from "node:net";
import { CONNECTION_ID, encodeErrorBody, encodeFrame, type Frame, FrameType, ProtocolError } from "@switchyard/protocol";
import { IdleTimeoutError } from "../errors.js";
import { BrokerFrames, type BrokerFramesOptions, writeCredit } from "./broker-frames.js";
import { type ConnectionLimits, type ConnectionState, FramedConnection } from "./framed-connection.js";
import type { SocketReader } from "./socket-reader.js";
import type { SocketWriter } from "./socket-writer.js";

/** Options of a ConnectionContext: its limits, and how its owner has it read frames. */
export interface ConnectionOptions extends ConnectionLimits, BrokerFramesOptions {
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

/** An error as the wire carries it: the table's number and a message. */
export interface WireError {
  wireCode: number;
  message: string;
}

/**
 * A FramedConnection speaking broker frames (BrokerFrames), as the broker and both clients use it:
 * frames are delivered one by one (none after the connection stops being open), sends are refused
 * rather than dropped, a PING probe checks a peer that owes an answer, and a protocol violation —
 * found by the decoder or by the owner — is answered with ERROR(PROTOCOL_ERROR) on requestId zero
 * before the connection closes.
 */
export class ConnectionContext {
  readonly #connection: FramedConnection<Frame>;
  readonly #writer: SocketWriter;
  readonly #format: BrokerFrames;
  readonly #handlers: ConnectionHandlers;
  /** Set while a probe() waits for the peer to send anything. */
  #probeTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
    this.#handlers = handlers;
    this.#format = new BrokerFrames(options);
    this.#connection = new FramedConnection(
      socket,
      this.#format,
      {
        onFrames: (frames) => this.#onFrames(frames),
        onViolation: (error) => this.protocolViolation(error),
        ...(handlers.onQuiet === undefined ? {} : { onQuiet: () => handlers.onQuiet?.() }),
        onClose: (error) => {
          if (this.#probeTimer !== null) clearTimeout(this.#probeTimer);
          handlers.onClose(error);
        },
      },
      options,
    );
    this.#writer = this.#connection.writer;
  }

  /** Process-unique number, for logs and maps. */
  get id(): number {
    return this.#connection.id;
  }

  /** Where it is: open, closing (flushing, then end) or closed. */
  get state(): ConnectionState {
    return this.#connection.state;
  }

  /** `host:port` of the peer, for logs. */
  get remoteAddress(): string {
    return this.#connection.remoteAddress;
  }

  /** Bytes received on the socket so far (Node's count). */
  get bytesRead(): number {
    return this.#connection.bytesRead;
  }

  /** Bytes handed to the kernel so far (Node's count). */
  get bytesWritten(): number {
    return this.#connection.bytesWritten;
  }

  /** See FramedConnection.lastReceivedAt. Null without a read timeout. */
  get lastReceivedAt(): number | null {
    return this.#connection.lastReceivedAt;
  }

  /** Frames waiting in the regular write queue. */
  get queuedFrames(): number {
    return this.#connection.writer.queuedFrames;
  }

  /** Frames waiting in the error write queue. */
  get queuedErrorFrames(): number {
    return this.#connection.writer.queuedErrorFrames;
  }

  /** Bytes waiting to be written, including the socket's own buffer. */
  get queuedBytes(): number {
    return this.#connection.writer.queuedBytes;
  }

  /** True while the peer's socket is full: producers of large bodies should await `drained()`. */
  get blocked(): boolean {
    return this.#connection.writer.blocked;
  }

  /** Resolves when everything queued has been handed to the kernel (or the connection closed). */
  drained(): Promise<void> {
    return this.#connection.writer.drained();
  }

  /** Queues a frame. False when it cannot be queued (queue full or not open): the caller refuses the work. */
  sendFrame(type: FrameType, flags: number, requestId: Uint8Array, ...payload: Uint8Array[]): boolean {
    return this.sendFrameParts(type, flags, requestId, payload);
  }

  /** sendFrame() for a payload already held as an array of parts (a relayed frame's), passed on as it is. */
  sendFrameParts(type: FrameType, flags: number, requestId: Uint8Array, payload: readonly Uint8Array[]): boolean {
    if (this.#connection.state !== "open") return false;
    return this.#format.write(this.#writer, type, flags, requestId, payload);
  }

  /**
   * Queues a frame of header only that the caller bounds itself (a CANCEL: one per request held; a
   * probe's PING: one at a time), never refused while open. See SocketWriter.beginControlFrame.
   */
  sendControl(type: FrameType, requestId: Uint8Array): boolean {
    const connection = this.#connection;
    if (connection.state !== "open") return false;
    return this.#format.writeControl(connection.writer, type, requestId);
  }

  /**
   * Grants the peer `increment` more bytes (1 ..= MAX_WINDOW) of the body of `requestId` with a
   * CREDIT frame (1.1, docs/protocol.md §1.20); never refused while open (see writeCredit).
   */
  sendCredit(requestId: Uint8Array, increment: number): boolean {
    const connection = this.#connection;
    if (connection.state !== "open") return false;
    return writeCredit(connection.writer, requestId, increment);
  }

  /**
   * Queues an ERROR frame in the priority queue. `prefix` goes before the error body (a routing
   * header, for errors a provider sends). False when it cannot be queued.
   */
  sendError(requestId: Uint8Array, error: WireError, prefix?: Uint8Array): boolean {
    if (this.#connection.state === "closed") return false;
    const body = encodeErrorBody(error);
    const frame = prefix === undefined ? encodeFrame(FrameType.ERROR, 0, requestId, body) : encodeFrame(FrameType.ERROR, 0, requestId, prefix, body);
    return this.#connection.writer.writeError(frame);
  }

  /**
   * Asks the peer whether it is alive: sends a PING on the connection id and closes the connection
   * (IdleTimeoutError) unless something — the PONG or any other byte — is received within
   * `timeoutMs`. A probe already waiting makes this a no-op, so a burst of reasons costs one PING.
   */
  probe(timeoutMs: number): void {
    const connection = this.#connection;
    if (connection.state !== "open" || this.#probeTimer !== null) return;
    const bytesRead = connection.bytesRead;
    // Never refused for a full write queue: a refused PING would leave a live peer with nothing to answer.
    this.sendControl(FrameType.PING, CONNECTION_ID);
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (connection.bytesRead === bytesRead) {
        connection.destroy(new IdleTimeoutError(`nothing received within ${timeoutMs} ms of a PING, not even its PONG; connection closed as dead`));
      }
    }, timeoutMs);
    this.#probeTimer.unref();
  }

  /** Flushes what is queued, ends the socket, and resolves once it is closed. Idempotent. */
  close(error?: Error): Promise<void> {
    return this.#connection.close(error);
  }

  /** Closes now, dropping what is queued; `error` is what onClose reports. Idempotent. */
  destroy(error?: Error): void {
    this.#connection.destroy(error);
  }

  #onFrames(frames: Frame[]): void {
    const connection = this.#connection;
    const handlers = this.#handlers;
    for (const frame of frames) {
      if (connection.state !== "open") return;
      handlers.onFrame(frame);
    }
  }

  /**
   * docs/protocol.md §1.16's answer to bad input, whether the decoder or the owner found it: ERROR(PROTOCOL_ERROR)
   * on requestId zero, flush, close this connection only. Later frames are not delivered.
   */
  protocolViolation(error: unknown): void {
    if (this.#connection.state !== "open") return;
    const violation = error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error });
    this.sendError(CONNECTION_ID, violation);
    void this.close(violation);
    this.#handlers.onViolation?.(violation);
  }
}
