import type { Socket } from "node:net";
import {
  CONNECTION_ID,
  DEFAULT_STREAM_WINDOW,
  encodeRoutingHeader,
  FLOW_CONTROL_SINCE_MINOR,
  LATEST_VERSION,
  negotiateVersion,
  VERSION_1_0,
  type Frame,
  idToString,
  ProtocolError,
  type Registration,
  type Role,
} from "@switchyard/protocol";
import type { CertificateIdentity } from "@switchyard/transport";
import { ConnectionContext, type ConnectionOptions, LinkedQueue, RequestIdTable, type WireError } from "@switchyard/transport/internal";
import type { BrokerRequest } from "./broker-request.js";
import type { Channel } from "./channel.js";
import { toWords } from "./words.js";

const NO_WORDS = new Int32Array(0);

/** Who receives a Peer's frames and its close. */
export interface PeerOwner {
  onFrame(peer: Peer, frame: Frame): void;
  onClose(peer: Peer, error: Error | undefined): void;
  onViolation(peer: Peer): void;
  /** Nothing received from `peer` for half the read timeout. */
  onQuiet(peer: Peer): void;
}

/**
 * One client connection as the broker sees it: the ConnectionContext that owns the socket, and,
 * once registered, who it is (role, clientId, channel) and the requests it takes part in.
 */
export class Peer {
  readonly ctx: ConnectionContext;
  /** 0 until the registration is accepted. */
  role: Role | 0 = 0;
  clientId: Buffer = CONNECTION_ID;
  /** clientId as latin1: its key in the registry. */
  clientKey = "";
  clientName = "";
  channel: Channel | null = null;
  /** Consumers: the deadline given by the registration, ms; 0 = the broker's default. */
  defaultTimeoutMs = 0;
  /** Providers: most requests held at once: the registration's, then the last CAPACITY's (§1.21). */
  capacity = 0;
  /**
   * The minor version of protocol 1 this connection negotiated at registration (docs/protocol.md
   * §1.5): what it may be sent and what its flags mean. 0 (1.0) until registered.
   */
  minorVersion = 0;
  /**
   * 1.1 (docs/protocol.md §1.20): the initial window this peer grants each body the broker sends
   * it (its registration's stream window, or the default); null when its connection speaks 1.0 and
   * nothing on it is flow-controlled.
   */
  streamWindow: number | null = null;
  /** Consumers: clientId + channelId, the 32 bytes put in front of their requests for providers. */
  routingHeader: Buffer = CONNECTION_ID;
  /** Consumers: routingHeader as words, to check a provider's response echoes it (startsWithWords). */
  routingWords: Int32Array = NO_WORDS;
  /** Consumers: how many of their requests wait in the wait queue, and the body bytes held for them (their fair shares). */
  queuedRequests = 0;
  queuedBytes = 0;
  /** Its verified TLS client certificate, if any: who it is for the ACL. */
  identity: CertificateIdentity | null = null;
  /** SHA-256 of the auth token it registered with (null without one): the ACL checks it again on reload. */
  tokenDigest: Buffer | null = null;
  /** Consumers: their live requests by their own requestId. */
  readonly requests = new RequestIdTable<BrokerRequest>();
  /** Providers: the requests they hold (their load), oldest first. */
  readonly inFlight = new LinkedQueue<BrokerRequest>();
  /** Date.now() when the connection was accepted. */
  readonly connectedAt = Date.now();

  constructor(socket: Socket, owner: PeerOwner, options: ConnectionOptions) {
    this.ctx = new ConnectionContext(
      socket,
      {
        onFrame: (frame) => owner.onFrame(this, frame),
        onClose: (error) => owner.onClose(this, error),
        onViolation: () => owner.onViolation(this),
        onQuiet: () => owner.onQuiet(this),
      },
      options,
    );
  }

  /** Takes the identity a registration gives; the registry has checked it. */
  register(registration: Registration, channel: Channel, capacity: number): void {
    this.role = registration.role;
    this.clientId = registration.clientId;
    this.clientKey = registration.clientId.toString("latin1");
    this.clientName = registration.clientName ?? "";
    this.channel = channel;
    this.defaultTimeoutMs = registration.timeoutMs;
    this.capacity = capacity;
    this.minorVersion = negotiateVersion(registration.version ?? VERSION_1_0, LATEST_VERSION).minor;
    this.streamWindow = this.minorVersion >= FLOW_CONTROL_SINCE_MINOR ? (registration.streamWindow ?? DEFAULT_STREAM_WINDOW) : null;
    this.routingHeader = encodeRoutingHeader(registration.clientId, registration.channelId);
    this.routingWords = toWords(this.routingHeader);
  }

  /** True when its connection negotiated flow control (1.1): it may send CREDIT, and its streams are flow-controlled. */
  get flowControlled(): boolean {
    return this.streamWindow !== null;
  }

  /** True while requests depend on this peer: a provider holding some, a consumer waiting for some. */
  get hasWorkInFlight(): boolean {
    return this.inFlight.size > 0 || this.requests.size > 0;
  }

  /** Fields that identify this connection in logs. */
  describe(): Record<string, unknown> {
    return {
      conn: this.ctx.id,
      remote: this.ctx.remoteAddress,
      ...(this.role === 0 ? {} : { role: this.role === 1 ? "consumer" : "provider", clientId: idToString(this.clientId) }),
      ...(this.clientName === "" ? {} : { clientName: this.clientName }),
      ...(this.channel === null ? {} : { channel: this.channel.id }),
    };
  }

  /** Answers `error` on `requestId`, flushes, and closes this connection (a refused registration). */
  refuse(requestId: Uint8Array, error: WireError): void {
    this.ctx.sendError(requestId, error);
    void this.ctx.close();
  }

  /** docs/protocol.md §1.16's answer to bad input: ERROR(PROTOCOL_ERROR) on requestId zero, flush, close. */
  protocolViolation(message: string): void {
    this.ctx.protocolViolation(new ProtocolError(message));
  }
}
