import type { Socket } from "node:net";
import {
  BrokerError,
  decodeRegistration,
  encodeErrorBody,
  encodeFrame,
  encodeRegistrationAck,
  encodeRoutingHeader,
  type Frame,
  FrameDecoder,
  FrameFlags,
  FrameType,
  MAX_PAYLOAD,
  newId,
  PROTOCOL_VERSION,
  type ProtocolVersion,
  type Registration,
  ROUTING_HEADER_SIZE,
  Role,
  type WireErrorCode,
} from "@switchyard/protocol";
import { TrackedServer } from "./tracked-server.js";

/** A frame the fake broker received, for assertions (its bytes copied). */
export interface Received {
  role: "consumer" | "provider" | "unregistered";
  type: FrameType;
  flags: number;
  /** Hex. */
  requestId: string;
  payload: Buffer;
}

/** One client connection of the fake broker, to send it frames (even ones no broker would). */
export class FakePeer {
  /** The socket under it, for tests that write bytes no frame encoder would. */
  readonly socket: Socket;
  registration: Registration | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** True while the socket can still be written. */
  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  sendFrame(type: FrameType, flags: number, requestId: Uint8Array, ...payload: Uint8Array[]): void {
    if (this.isOpen) this.socket.write(Buffer.concat(encodeFrame(type, flags, requestId, ...payload)));
  }

  /** Sends ERROR(code, message) on `requestId`. */
  sendError(requestId: Uint8Array, error: { wireCode: number; message: string }): void {
    this.sendFrame(FrameType.ERROR, 0, requestId, encodeErrorBody(error));
  }

  /** Ends the connection once what was sent is written. */
  end(): void {
    this.socket.end();
  }
}

interface Route {
  consumer: FakePeer;
  provider: FakePeer;
}

/**
 * A test fixture, not a second broker: acks registrations, routes each consumer START to a
 * provider of its channel (round robin, no capacity accounting, no queueing, no deadlines),
 * forwards CHUNK/END/CANCEL verbatim and answers back with the routing header stripped, as
 * docs/protocol.md draws it. It records registrations and frames so tests can see what clients
 * sent. It reads and writes its sockets with the protocol codec only, not with the transport the
 * clients under test use, so a transport bug cannot hide on both sides. `stop()` fails the test
 * when a client left its connection open.
 */
export class FakeBroker {
  readonly registrations: Registration[] = [];
  readonly received: Received[] = [];
  /** The serverId its registration acks announce. */
  readonly serverId: Buffer = newId();
  /** The maxPayload its registration acks announce. Default MAX_PAYLOAD. */
  maxPayload = MAX_PAYLOAD;
  /**
   * The protocol version its acks name (extension 4). Default none: the 21-byte ack of a 1.0
   * broker, which is what the fake plays unless told otherwise.
   */
  ackVersion: ProtocolVersion | undefined = undefined;
  /**
   * When set, sees every frame from every connection first (after it is recorded), PINGs and
   * registrations included; returning true means "handled": the fake does nothing more with it.
   * `() => true` makes a broker that answers nothing.
   */
  intercept: ((frame: Frame, peer: FakePeer) => boolean) | null = null;
  /**
   * When set, sees every registered consumer's frame first; returning true means "handled, do not
   * route". `socket` is the connection's own, to write raw (even malformed) bytes.
   */
  interceptConsumer: ((frame: Frame, peer: FakePeer, socket: Socket) => boolean) | null = null;
  #refuseWith: WireErrorCode | null = null;
  #refuseMessage: string | null = null;
  #refusals = 0;
  readonly #peers = new Set<FakePeer>();
  readonly #routes = new Map<string, Route>();
  #server: TrackedServer | null = null;
  #port = 0;
  #nextProvider = 0;

  /** Listens on 127.0.0.1 (`port` 0 = any free one; by default the previous port, to restart). */
  async start(port = this.#port): Promise<this> {
    this.#server = await TrackedServer.listen((socket) => this.#accept(socket), { port, name: "FakeBroker" });
    this.#port = this.#server.port;
    return this;
  }

  /** Refuses the next `times` registrations with `code` and `message` (code null: accept again). */
  refuse(code: WireErrorCode | null, times = Number.POSITIVE_INFINITY, message: string | null = null): void {
    this.#refuseWith = code;
    this.#refuseMessage = message;
    this.#refusals = times;
  }

  /** "127.0.0.1:port". */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** The port it listens (or last listened) on. */
  get port(): number {
    return this.#port;
  }

  /** Frames of `type` received from clients of `role`. */
  frames(role: Received["role"], type: FrameType): Received[] {
    return this.received.filter((frame) => frame.role === role && frame.type === type);
  }

  /** Every open connection, registered or not, oldest first. */
  get peers(): FakePeer[] {
    return [...this.#peers];
  }

  /** The frames of `type` received from anyone. */
  typed(type: FrameType): Received[] {
    return this.received.filter((frame) => frame.type === type);
  }

  /** The open connections of registered clients of `role`, to send them frames directly. */
  connections(role: Role): FakePeer[] {
    return [...this.#peers].filter((peer) => peer.registration?.role === role);
  }

  /** Connections it holds open now (registered or not). */
  openConnections(): number {
    return this.#server?.openConnections() ?? 0;
  }

  /** Destroys every client connection and stops listening, as a broker that dies; `start()` restarts it. */
  async crash(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    await server?.crash();
    this.#peers.clear();
    this.#routes.clear();
  }

  /**
   * The end of a test: stops listening and rejects with ConnectionLeakError if a client still holds
   * a connection after the grace period (clients are to be closed first).
   */
  async stop(graceMs?: number): Promise<void> {
    const server = this.#server;
    this.#server = null;
    try {
      await server?.stop(graceMs);
    } finally {
      this.#peers.clear();
      this.#routes.clear();
    }
  }

  #accept(socket: Socket): void {
    const peer = new FakePeer(socket);
    this.#peers.add(peer);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy(); // a client that breaks the framing: the fake only drops it
        return;
      }
      for (const frame of frames) this.#onFrame(peer, copy(frame));
    });
    socket.once("close", () => this.#onClose(peer));
  }

  #onFrame(peer: FakePeer, frame: Frame): void {
    const role = peer.registration === null ? "unregistered" : peer.registration.role === Role.CONSUMER ? "consumer" : "provider";
    this.received.push({ role, type: frame.type, flags: frame.flags, requestId: frame.requestId.toString("hex"), payload: frame.payload });
    if (this.intercept?.(frame, peer)) return;
    if (frame.type === FrameType.PING) {
      peer.sendFrame(FrameType.PONG, 0, frame.requestId, frame.payload);
      return;
    }
    if (peer.registration === null) this.#register(peer, frame);
    else if (peer.registration.role === Role.CONSUMER) this.#fromConsumer(peer, frame);
    else this.#fromProvider(peer, frame);
  }

  #register(peer: FakePeer, frame: Frame): void {
    const refuse = (code: WireErrorCode) => {
      peer.sendError(frame.requestId, new BrokerError(code, this.#refuseMessage ?? `fake broker refuses: ${code}`));
      peer.end();
    };
    if (frame.type !== FrameType.START || (frame.flags & FrameFlags.REGISTRATION) === 0) {
      refuse("NOT_REGISTERED");
      return;
    }
    if (this.#refuseWith !== null && this.#refusals > 0) {
      this.#refusals--;
      refuse(this.#refuseWith);
      return;
    }
    const registration = decodeRegistration(frame.payload);
    peer.registration = registration;
    this.registrations.push(registration);
    const ack = encodeRegistrationAck({ protocolVersion: PROTOCOL_VERSION, maxPayload: this.maxPayload, serverId: this.serverId, version: this.ackVersion });
    peer.sendFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, frame.requestId, ack);
  }

  #fromConsumer(consumer: FakePeer, frame: Frame): void {
    if (this.interceptConsumer?.(frame, consumer, consumer.socket)) return;
    const key = frame.requestId.toString("hex");
    if (frame.type === FrameType.START) {
      const provider = this.#pickProvider(consumer.registration!.channelId);
      if (provider === null) {
        consumer.sendError(frame.requestId, new BrokerError("NO_PROVIDER", "no provider on this channel"));
        return;
      }
      this.#routes.set(key, { consumer, provider });
      const routing = encodeRoutingHeader(consumer.registration!.clientId, consumer.registration!.channelId);
      provider.sendFrame(FrameType.START, frame.flags, frame.requestId, routing, frame.payload);
      return;
    }
    const route = this.#routes.get(key);
    if (route === undefined) return;
    if (frame.type === FrameType.CANCEL) this.#routes.delete(key);
    route.provider.sendFrame(frame.type, frame.flags, frame.requestId, frame.payload);
  }

  #fromProvider(provider: FakePeer, frame: Frame): void {
    const key = frame.requestId.toString("hex");
    const route = this.#routes.get(key);
    if (route === undefined || route.provider !== provider) {
      if (frame.type !== FrameType.PONG) provider.sendError(frame.requestId, new BrokerError("BAD_ROUTE", "not yours"));
      return;
    }
    const prefixed = frame.type === FrameType.RESPONSE || frame.type === FrameType.RESPONSE_START || frame.type === FrameType.ERROR;
    const payload = prefixed ? frame.payload.subarray(ROUTING_HEADER_SIZE) : frame.payload;
    const ends = frame.type === FrameType.RESPONSE || frame.type === FrameType.RESPONSE_END || frame.type === FrameType.ERROR;
    if (ends) this.#routes.delete(key);
    route.consumer.sendFrame(frame.type, 0, frame.requestId, payload);
  }

  #pickProvider(channelId: Buffer): FakePeer | null {
    const providers = [...this.#peers].filter(
      (peer) => peer.registration?.role === Role.PROVIDER && peer.registration.channelId.equals(channelId) && peer.isOpen,
    );
    if (providers.length === 0) return null;
    return providers[this.#nextProvider++ % providers.length]!;
  }

  #onClose(peer: FakePeer): void {
    this.#peers.delete(peer);
    for (const [key, route] of this.#routes) {
      if (route.provider !== peer) continue;
      this.#routes.delete(key);
      route.consumer.sendError(Buffer.from(key, "hex"), new BrokerError("PROVIDER_GONE", "provider left"));
    }
  }
}

/** A frame that owns its bytes (the decoder's are views into a chunk). */
function copy(frame: Frame): Frame {
  return { type: frame.type, flags: frame.flags, requestId: Buffer.from(frame.requestId), payload: Buffer.from(frame.payload) };
}
