import { connect, type Socket } from "node:net";
import {
  type BrokerError,
  decodeErrorBody,
  encodeCredit,
  encodeFrame,
  encodeRegistration,
  encodeRequestHead,
  encodeRoutingHeader,
  type Frame,
  FrameDecoder,
  FrameFlags,
  FrameType,
  newId,
  type ProtocolVersion,
  type Registration,
  Role,
  ROUTING_HEADER_SIZE,
} from "@switchyard/protocol";
import { onCleanup } from "./cleanup.js";

/** What to register as; ids default to fresh random ones. */
export interface RegisterOptions {
  role: "consumer" | "provider";
  channelId: Buffer;
  clientId?: Buffer;
  timeoutMs?: number;
  capacity?: number;
  authToken?: string;
  clientName?: string;
  /**
   * The highest protocol version to announce (registration extension 4). Omitted: none, as a 1.0
   * client registers — a RawClient plays a 1.0 peer unless told otherwise.
   */
  version?: ProtocolVersion;
  /** 1.1: the initial stream window to announce (registration extension 5); omitted: none. */
  streamWindow?: number;
}

const WAIT_MS = 3000;

/**
 * A bare TCP client that speaks broker frames by hand: what the broker tests drive it with (and the
 * provider's tests, as their consumer), so each frame on the wire is the test's own choice. Every
 * frame received is kept (copied) until a `next()` takes it.
 */
export class RawClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  clientId: Buffer = newId();
  channelId: Buffer = newId();
  #decoder = new FrameDecoder();
  #inbox: Frame[] = [];
  #waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = [];
  #decodeError: unknown = null;
  #isClosed = false;
  /** When true, every PING is answered with PONG at once (and not kept in the inbox), as the library clients do. */
  answerPings = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => {
      this.#isClosed = true;
      resolve();
    }));
  }

  /** Connects to the broker at host:port, from `localAddress` when given (e.g. 127.0.0.2: another loopback address). */
  static connect(port: number, host = "127.0.0.1", localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Connects to "host:port" and destroys the client after the current test. */
  static async open(address: string | number): Promise<RawClient> {
    const [host, port] = typeof address === "number" ? ["127.0.0.1", address] : splitAddress(address);
    const client = await RawClient.connect(port, host);
    onCleanup(() => client.destroy());
    return client;
  }

  /** True once the broker (or we) closed the socket. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Frames received and not yet taken. */
  get inbox(): readonly Frame[] {
    return this.#inbox;
  }

  /** Takes every frame received and not yet taken. */
  takeAll(): Frame[] {
    return this.#inbox.splice(0);
  }

  send(type: FrameType, flags: number, requestId: Uint8Array, ...payload: Uint8Array[]): void {
    for (const part of encodeFrame(type, flags, requestId, ...payload)) this.socket.write(part);
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends START|REGISTRATION and returns the broker's answer (ack or ERROR). */
  async registerRaw(options: RegisterOptions, requestId: Buffer = newId()): Promise<Frame> {
    this.clientId = options.clientId ?? this.clientId;
    this.channelId = options.channelId;
    const registration: Registration = {
      role: options.role === "consumer" ? Role.CONSUMER : Role.PROVIDER,
      timeoutMs: options.timeoutMs ?? 0,
      clientId: this.clientId,
      channelId: this.channelId,
      ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
      ...(options.authToken === undefined ? {} : { authToken: options.authToken }),
      ...(options.clientName === undefined ? {} : { clientName: options.clientName }),
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(options.streamWindow === undefined ? {} : { streamWindow: options.streamWindow }),
    };
    this.send(FrameType.START, FrameFlags.REGISTRATION, requestId, encodeRegistration(registration));
    return this.next((frame) => frame.requestId.equals(requestId));
  }

  /** Registers and fails unless the broker acks. */
  async register(options: RegisterOptions): Promise<this> {
    const answer = await this.registerRaw(options);
    if (answer.type !== FrameType.RESPONSE || (answer.flags & FrameFlags.REGISTRATION) === 0) {
      throw new Error(`registration not acked: type ${answer.type} ${answer.type === FrameType.ERROR ? decodeErrorBody(answer.payload).code : ""}`);
    }
    return this;
  }

  /** Consumer: sends a whole request in one START|FINAL; returns its requestId. */
  request(body: string | Buffer, timeoutMs = 0, requestId: Buffer = newId()): Buffer {
    this.send(FrameType.START, FrameFlags.FINAL, requestId, encodeRequestHead(timeoutMs), Buffer.from(body));
    return requestId;
  }

  /**
   * Consumer: the answer to `requestId`, a RESPONSE or a RESPONSE_START, CHUNKs and RESPONSE_END put
   * together; an ERROR rejects with the error it carries (a BrokerError with its code).
   */
  async response(requestId: Buffer, timeoutMs = WAIT_MS): Promise<Buffer> {
    const ours = (frame: Frame) => frame.requestId.equals(requestId);
    const first = await this.next(ours, timeoutMs);
    if (first.type === FrameType.ERROR) throw decodeErrorBody(first.payload);
    if (first.type === FrameType.RESPONSE) return first.payload;
    if (first.type !== FrameType.RESPONSE_START) throw new Error(`expected a response to ${requestId.toString("hex")}, got frame type ${first.type}`);
    const parts = [first.payload];
    for (;;) {
      const frame = await this.next(ours, timeoutMs);
      if (frame.type === FrameType.ERROR) throw decodeErrorBody(frame.payload);
      parts.push(frame.payload);
      if (frame.type === FrameType.RESPONSE_END) return Buffer.concat(parts);
    }
  }

  /** Consumer: sends a whole request and waits for its answer (see response()). */
  async call(body: string | Buffer, timeoutMs = 0, waitMs = WAIT_MS): Promise<Buffer> {
    return this.response(this.request(body, timeoutMs), waitMs);
  }

  /** Consumer: sends a request as a START without FINAL, CHUNKs of at most `pieceBytes`, then END; returns its requestId. */
  requestStreamed(body: Buffer, timeoutMs = 0, pieceBytes = 512 * 1024, requestId: Buffer = newId()): Buffer {
    this.send(FrameType.START, 0, requestId, encodeRequestHead(timeoutMs));
    for (let offset = 0; offset < body.length; offset += pieceBytes) {
      this.send(FrameType.CHUNK, 0, requestId, body.subarray(offset, offset + pieceBytes));
    }
    this.send(FrameType.END, 0, requestId);
    return requestId;
  }

  /** 1.1: grants `increment` more bytes of the body of `requestId` with a CREDIT frame (docs/protocol.md §1.20). */
  credit(requestId: Uint8Array, increment: number): void {
    this.send(FrameType.CREDIT, 0, requestId, encodeCredit(increment));
  }

  /** Provider: the routing header of a START it received. */
  static routingOf(start: Frame): Buffer {
    return start.payload.subarray(0, ROUTING_HEADER_SIZE);
  }

  /** Provider: answers a START with one RESPONSE carrying its routing header. */
  respond(start: Frame, body: string | Buffer): void {
    this.send(FrameType.RESPONSE, 0, start.requestId, RawClient.routingOf(start), Buffer.from(body));
  }

  /** Provider: a routing header for arbitrary ids (for forging tests). */
  static routing(clientId: Buffer, channelId: Buffer): Buffer {
    return encodeRoutingHeader(clientId, channelId);
  }

  /** The next frame (kept or coming) that `match` accepts; fails after `timeoutMs`. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = WAIT_MS): Promise<Frame> {
    const index = this.#inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; inbox types: [${this.#inbox.map((f) => f.type).join(",")}]`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** The next frame of `type` (and requestId, when given). */
  nextOf(type: FrameType, requestId?: Buffer, timeoutMs = WAIT_MS): Promise<Frame> {
    return this.next((frame) => frame.type === type && (requestId === undefined || frame.requestId.equals(requestId)), timeoutMs);
  }

  /** The next ERROR (for `requestId` when given), decoded. */
  async nextError(requestId?: Buffer, timeoutMs = WAIT_MS): Promise<BrokerError> {
    return decodeErrorBody((await this.nextOf(FrameType.ERROR, requestId, timeoutMs)).payload);
  }

  /** Resolves once the socket is closed; fails after `timeoutMs`. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closed,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails if a frame matching `match` arrives within `ms` (proves an absence). */
  async expectNothing(match: (frame: Frame) => boolean = () => true, ms = 150): Promise<void> {
    const frame = await this.next(match, ms).catch(() => null);
    if (frame !== null) throw new Error(`unexpected frame type ${frame.type}`);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#decodeError !== null) return;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#decodeError = error;
      return;
    }
    for (const view of frames) {
      if (this.answerPings && view.type === FrameType.PING) {
        this.send(FrameType.PONG, 0, view.requestId, view.payload);
        continue;
      }
      const frame: Frame = { type: view.type, flags: view.flags, requestId: Buffer.from(view.requestId), payload: Buffer.from(view.payload) };
      const index = this.#waiters.findIndex((waiter) => waiter.match(frame));
      if (index < 0) this.#inbox.push(frame);
      else this.#waiters.splice(index, 1)[0]!.resolve(frame);
    }
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
