import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import {
  CONNECTION_ID,
  compareVersions,
  DEFAULT_STREAM_WINDOW,
  decodeRegistrationAck,
  encodeRegistration,
  FLOW_CONTROL_SINCE_MINOR,
  type Frame,
  FrameFlags,
  FrameType,
  formatVersion,
  idToBytes,
  idToString,
  LATEST_VERSION,
  MAX_PAYLOAD,
  newId,
  ProtocolError,
  type ProtocolVersion,
  type RegistrationAck,
  ROUTING_HEADER_SIZE,
  Role,
  VERSION_1_0,
} from "@switchyard/protocol";
import { type BodyRoute, REQUEST_BODY_FRAMES, RESPONSE_BODY_FRAMES } from "../body/body-sender.js";
import { ConnectionContext } from "../connection/connection-context.js";
import { dial } from "../connection/dial.js";
import { errorFromPayload } from "../connection/error-frame.js";
import { SocketReader } from "../connection/socket-reader.js";
import { AbortedError, ClientClosedError, ConnectError, DisconnectedError, disconnectedBy } from "../errors.js";
import { formatHostPort, type HostPort, parseAddress } from "../options/address.js";
import { explainTlsFailure, resolveClientTls } from "../tls/client-tls.js";
import { settleWithin } from "../util/settle-within.js";
import { backoffDelay } from "./backoff.js";
import { type ClientOptions, type ClientState, notifyStateChange, type ResolvedClientOptions, resolveClientOptions } from "./client-options.js";
import { type ClientStatus, type ClientTransportStats, StatusFeed } from "./client-status.js";

/** Who the client registers as. */
export interface ClientRegistration {
  role: Role;
  /** Channel UUID string. */
  channelId: string;
  /** Providers: most requests handled at once (registration extension 3). */
  capacity?: number;
}

/** What a Consumer or Provider does with its connection; the base client does the rest. */
export interface ClientHooks {
  /** Every frame but the registration ack, PING/PONG and errors about the connection itself. */
  onFrame(frame: Frame, route: BodyRoute): void;
  /** The open connection was lost: fail at once what was in flight on it. */
  onDisconnect(error: DisconnectedError): void;
  /** close() begins (state `closing`): stop taking new work. */
  onClosing(): void;
  /** Resolves once nothing is in flight; close() waits for it, up to closeTimeout. */
  whenIdle(): Promise<void>;
  /** close() stops waiting: fail what is still in flight with `error`. */
  onClose(error: ClientClosedError): void;
  /** Every status event as it is published (a fleet forwards its brokers' events). */
  onStatus?(event: ClientStatus): void;
}

/** One connection and what the client knows about it. */
interface Session {
  connection: ConnectionContext;
  /** How this client's bodies go on this connection; made once the ack says how large a frame may be. */
  route: BodyRoute | null;
  socket: Socket;
  /** Set while the registration is unanswered. */
  registering: { requestId: Buffer; settle(error: Error | null, ack?: RegistrationAck): void } | null;
  ack: RegistrationAck | null;
  /** The version the connection uses: the ack's, or 1.0 from a broker that names none. */
  version: ProtocolVersion | null;
  /** A connection-level ERROR the broker sent: the cause reported when the connection ends. */
  brokerError: Error | null;
  pingTimer: NodeJS.Timeout | null;
  bytesRead: number;
  bytesWritten: number;
}

/**
 * What Consumer and Provider share: dial with a timeout, register (START|REGISTRATION, await the
 * ack or the broker's refusal), PING when idle and answer the broker's PINGs, and after the broker
 * goes away, report the loss (so work in flight fails at once) and reconnect with capped
 * exponential backoff and jitter, registering again. A refusal while reconnecting (e.g. an older
 * broker's DUPLICATE_CLIENT, sent while it had not noticed the old connection) is retried like any
 * failed attempt. A connection that another registration with the same clientId took over (ERROR
 * DUPLICATE_CLIENT on requestId zero) is not reconnected: the client closes. The roles plug in
 * through ClientHooks.
 */
export class BaseClient {
  /** Resolved options. */
  readonly options: ResolvedClientOptions;
  readonly #address: HostPort;
  /** tls.connect's settings, or null for plaintext. */
  readonly #tls: TlsConnectionOptions | null;
  readonly #registration: ClientRegistration;
  readonly #hooks: ClientHooks;
  /** Aborted by close(): stops a reconnect wait or attempt. */
  readonly #lifetime = new AbortController();
  #state: ClientState = "connecting";
  #session: Session | null = null;
  #closing: Promise<void> | null = null;
  /** status(), closed() and the connection counters of stats(). */
  readonly #status = new StatusFeed();

  /** Throws InvalidArgumentError for a bad address, channelId or option. Call open() next. */
  constructor(address: string, registration: ClientRegistration, hooks: ClientHooks, options: ClientOptions = {}) {
    const parsed = parseAddress(address);
    this.#address = parsed;
    this.#tls = resolveClientTls(parsed, options.tls);
    idToBytes(registration.channelId, "channelId");
    this.#registration = registration;
    this.#hooks = hooks;
    this.options = resolveClientOptions(options);
  }

  /**
   * The client's status events as they happen: connected, disconnected, reconnecting, closed (then
   * the iterator ends). Each iterator keeps at most EVENT_BUFFER unread events and drops the
   * oldest beyond that, so a reader that never reads costs a bounded amount.
   */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#status.iterator();
  }

  /** Resolves once the client is closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#status.closed();
  }

  /** State, server id, reconnects and bytes each way, as a plain snapshot. */
  connectionStats(): ClientTransportStats {
    const socket = this.#session?.socket;
    return {
      state: this.#state,
      serverId: this.serverId,
      reconnects: this.#status.reconnects,
      bytesReceived: this.#status.bytesReceived + (socket?.bytesRead ?? 0),
      bytesSent: this.#status.bytesSent + (socket?.bytesWritten ?? 0),
    };
  }

  /** Where the client is in its lifecycle. */
  get state(): ClientState {
    return this.#state;
  }

  /** This client's id (UUID string). */
  get clientId(): string {
    return this.options.clientId;
  }

  /** The registered connection while `open`; null otherwise. */
  get connection(): ConnectionContext | null {
    return this.route?.connection ?? null;
  }

  /** How bodies go on the current connection (while open or closing), else null. */
  get route(): BodyRoute | null {
    return this.#state === "open" || this.#state === "closing" ? (this.#session?.route ?? null) : null;
  }

  /** Largest frame payload to send, bytes: what the broker announced, at most MAX_PAYLOAD. */
  get maxPayload(): number {
    return Math.min(this.#session?.ack?.maxPayload ?? MAX_PAYLOAD, MAX_PAYLOAD);
  }

  /**
   * The protocol version the current connection negotiated (docs/protocol.md §1.5): 1.1 with a
   * broker that speaks it, 1.0 with an older one; null while not registered.
   */
  get protocolVersion(): ProtocolVersion | null {
    return this.#session?.version ?? null;
  }

  /** The broker's id from the last registration ack (UUID string), once registered. */
  get serverId(): string | undefined {
    const ack = this.#session?.ack;
    return ack ? idToString(ack.serverId) : undefined;
  }

  /**
   * Dials and registers the first time. Rejects with ConnectError (CONNECT_FAILED: refused,
   * unreachable, timed out, a TLS certificate refused), the broker's BrokerError (UNAUTHORIZED, FORBIDDEN, DUPLICATE_CLIENT,
   * BAD_REGISTRATION) or AbortedError (options.signal); the client is then closed. No retry: a
   * broker that cannot be reached at start is a configuration error the caller should see.
   */
  async open(): Promise<void> {
    try {
      await this.#connectOnce(this.options.signal);
    } catch (error) {
      this.#lifetime.abort();
      this.#setState("closed", error as Error);
      throw error;
    }
  }

  /**
   * Starts without a first connect that must succeed: the client is `reconnecting` at once and
   * dials with the reconnect backoff until it registers (or maxReconnectAttempts run out and it
   * closes itself). For a broker of a fleet that is down while the others are up.
   */
  openInBackground(): void {
    this.#setState("reconnecting", undefined);
    void this.#reconnect();
  }

  /**
   * Graceful close: the roles stop taking new work (state `closing`), close() waits up to
   * closeTimeout for work in flight, fails what is left with CLOSED, flushes and ends the
   * connection, waiting up to writeTimeout for the broker to close its side before cutting it.
   * Resolves within closeTimeout + writeTimeout whatever the network does. Idempotent: every call
   * returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#setState("closing", undefined);
    this.#lifetime.abort();
    this.#hooks.onClosing();
    if (this.#session !== null) await settleWithin(this.#hooks.whenIdle(), this.options.closeTimeout);
    this.#hooks.onClose(new ClientClosedError("the client was closed before this finished"));
    const session = this.#session;
    this.#session = null;
    if (session !== null) {
      stopPing(session);
      // A broker that is gone without a word (frozen, half-open) never closes its side after our
      // end(): the flush and goodbye get the write timeout, then the connection is cut.
      await settleWithin(session.connection.close(), this.options.connection.writeTimeout);
      session.connection.destroy();
      this.#retire(session);
    }
    this.#setState("closed", undefined);
    this.#publish({ type: "closed", error: undefined });
  }

  /** Dials, wraps the socket, registers. Rejects as open() documents. */
  async #connectOnce(signal: AbortSignal | undefined): Promise<Session> {
    const { connectTimeout } = this.options;
    const deadline = AbortSignal.timeout(connectTimeout);
    const signals = signal === undefined ? [this.#lifetime.signal, deadline] : [this.#lifetime.signal, deadline, signal];
    const combined = AbortSignal.any(signals);
    const abortError = (): Error => {
      const where = formatHostPort(this.#address);
      if (this.#lifetime.signal.aborted) return new ClientClosedError(`closed while connecting to ${where}`);
      if (signal?.aborted) return new AbortedError(`connecting to ${where} was aborted`, { cause: signal.reason });
      return new ConnectError(`could not connect and register with ${where} within ${connectTimeout} ms`);
    };
    const reader = new SocketReader<Frame>();
    const socket = await dial(this.#address, combined, abortError, { onread: reader.onread, tls: this.#tls });
    return this.#register(socket, reader, combined, abortError);
  }

  #register(socket: Socket, reader: SocketReader<Frame>, signal: AbortSignal, abortError: () => Error): Promise<Session> {
    const session: Session = {
      socket,
      connection: null as unknown as ConnectionContext,
      route: null,
      registering: null,
      ack: null,
      version: null,
      brokerError: null,
      pingTimer: null,
      bytesRead: 0,
      bytesWritten: 0,
    };
    session.connection = new ConnectionContext(
      socket,
      { onFrame: (frame) => this.#onFrame(session, frame), onClose: (error) => this.#onConnectionClose(session, error) },
      { ...this.options.connection, reader },
    );
    return new Promise<Session>((resolve, reject) => {
      const onAbort = () => session.registering?.settle(abortError());
      const requestId = newId();
      session.registering = {
        requestId,
        settle: (error, ack) => {
          session.registering = null;
          signal.removeEventListener("abort", onAbort);
          if (error !== null) {
            session.connection.destroy(error);
            reject(error);
            return;
          }
          session.ack = ack!;
          session.version = ack!.version ?? VERSION_1_0;
          // Open now, inside the frame handler: the broker may send requests right behind the ack,
          // in the same chunk, and they must find the client open (not after an await).
          this.#opened(session);
          resolve(session);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const payload = encodeRegistration({
        role: this.#registration.role,
        timeoutMs: this.options.timeout,
        clientId: idToBytes(this.options.clientId),
        channelId: idToBytes(this.#registration.channelId),
        authToken: this.options.authToken,
        clientName: this.options.clientName,
        capacity: this.#registration.capacity,
        version: LATEST_VERSION,
        // 1.1: the window this client grants each body the broker sends it (§1.20); a 1.0 broker skips it
        streamWindow: DEFAULT_STREAM_WINDOW,
      });
      session.connection.sendFrame(FrameType.START, FrameFlags.REGISTRATION, requestId, payload);
    });
  }

  #onFrame(session: Session, frame: Frame): void {
    if (frame.type === FrameType.PING) {
      session.connection.sendFrame(FrameType.PONG, FrameFlags.NONE, frame.requestId, frame.payload);
      return;
    }
    if (frame.type === FrameType.PONG) return;
    if (session.registering !== null) {
      onRegistrationFrame(session, frame);
      return;
    }
    if (frame.type === FrameType.RESPONSE && (frame.flags & FrameFlags.REGISTRATION) !== 0) return; // stray ack
    if (frame.type === FrameType.ERROR && frame.requestId.equals(CONNECTION_ID)) {
      this.#onConnectionError(session, frame);
      return;
    }
    if (session.route !== null) this.#hooks.onFrame(frame, session.route); // null: the registration failed
  }

  /**
   * An ERROR on requestId zero is about the connection. PROTOCOL_ERROR, NOT_REGISTERED,
   * DUPLICATE_CLIENT and FORBIDDEN (an ACL reload withdrew this client's rights) mean the broker is
   * closing it: close now, so work in flight fails at once with the broker's error as cause, and
   * reconnect — except after DUPLICATE_CLIENT (see #onConnectionClose). Anything else is logged and
   * kept as the cause of a later loss.
   */
  #onConnectionError(session: Session, frame: Frame): void {
    const error = errorFromPayload(frame.payload);
    session.brokerError = error;
    this.options.logger.warn({ code: error.code, message: error.message }, "broker reported a connection error");
    const code = error.code;
    if (code === "PROTOCOL_ERROR" || code === "NOT_REGISTERED" || code === "DUPLICATE_CLIENT" || code === "FORBIDDEN") {
      session.connection.destroy(new DisconnectedError(`the broker closed the connection: ${error.code}`, { cause: error }));
    }
  }

  #onConnectionClose(session: Session, error: Error | undefined): void {
    if (session.registering !== null) {
      const cause = session.brokerError ?? error;
      // With TLS 1.3 a server refuses a client certificate after the client's handshake is done:
      // the refusal arrives here, while registering
      const tls = this.#tls === null ? null : explainTlsFailure(cause, formatHostPort(this.#address));
      session.registering.settle(new ConnectError(tls?.message ?? "the broker closed the connection during registration", { cause: tls?.cause ?? cause }));
      return;
    }
    if (session !== this.#session) return;
    this.#session = null;
    stopPing(session);
    this.#retire(session);
    const lost = lossError(error ?? session.brokerError ?? undefined);
    this.#publish({ type: "disconnected", server: formatHostPort(this.#address), error: lost });
    if (this.#state !== "open") {
      this.#hooks.onDisconnect(lost);
      return;
    }
    // DUPLICATE_CLIENT on a live connection: another connection registered with this clientId and
    // took it over (the newest wins). Reconnecting would take it back, and the two would fight.
    const takenOver = (session.brokerError as { code?: string } | null)?.code === "DUPLICATE_CLIENT";
    const reconnect = this.options.maxReconnectAttempts > 0 && !takenOver;
    this.options.logger.warn({ error: lost.message }, reconnect ? "lost the broker; reconnecting" : "lost the broker");
    if (reconnect) {
      this.#setState("reconnecting", lost);
      this.#hooks.onDisconnect(lost);
      void this.#reconnect();
    } else {
      this.#hooks.onDisconnect(lost);
      this.#closeItself(lost);
    }
  }

  async #reconnect(): Promise<void> {
    const { reconnectDelay, maxReconnectDelay, maxReconnectAttempts, logger } = this.options;
    for (let attempt = 0; attempt < maxReconnectAttempts; attempt++) {
      try {
        const delayMs = backoffDelay(attempt, reconnectDelay, maxReconnectDelay);
        this.#publish({ type: "reconnecting", server: formatHostPort(this.#address), attempt: attempt + 1, delayMs });
        await sleep(delayMs, undefined, { signal: this.#lifetime.signal });
        await this.#connectOnce(undefined);
        return;
      } catch (error) {
        if (this.#lifetime.signal.aborted) return;
        logger.warn({ attempt: attempt + 1, error: (error as Error).message, code: (error as { code?: string }).code }, "reconnect attempt failed");
      }
    }
    this.#closeItself(new DisconnectedError(`gave up reconnecting after ${maxReconnectAttempts} attempts`));
  }

  /**
   * Closed without close(): the broker is gone for good. The roles end as close() would end them
   * (a provider's requests() loop returns), and a later close() has nothing left to do.
   */
  #closeItself(reason: DisconnectedError): void {
    this.#lifetime.abort();
    this.#setState("closed", reason);
    this.#hooks.onClosing();
    this.#hooks.onClose(new ClientClosedError(`the client closed: ${reason.message}`));
    this.#publish({ type: "closed", error: reason });
  }

  /** Adds an ended connection's bytes to the totals of stats(). */
  #retire(session: Session): void {
    this.#status.bytesReceived += session.socket.bytesRead;
    this.#status.bytesSent += session.socket.bytesWritten;
  }

  /** Makes a registered session the client's; throws if it was lost between its ack and now. */
  #opened(session: Session): void {
    if (session.connection.state !== "open") {
      throw new ConnectError("the broker closed the connection right after accepting the registration", { cause: session.brokerError ?? undefined });
    }
    this.#session = session;
    // A consumer sends requests, whose first frame the broker forwards with the routing header in
    // front (so that much is kept free); a provider sends responses.
    const consumer = this.#registration.role === Role.CONSUMER;
    // 1.1: streamed bodies are flow-controlled both ways (docs/protocol.md §1.20); on 1.0, neither
    const flowControlled = session.version!.minor >= FLOW_CONTROL_SINCE_MINOR;
    session.route = {
      connection: session.connection,
      frames: consumer ? REQUEST_BODY_FRAMES : RESPONSE_BODY_FRAMES,
      maxPayload: this.maxPayload,
      reserve: consumer ? ROUTING_HEADER_SIZE : 0,
      sendWindow: flowControlled ? (session.ack!.streamWindow ?? DEFAULT_STREAM_WINDOW) : null,
      receiveWindow: flowControlled ? DEFAULT_STREAM_WINDOW : null,
    };
    session.bytesRead = session.socket.bytesRead;
    session.bytesWritten = session.socket.bytesWritten;
    const { pingInterval } = this.options;
    if (pingInterval > 0) {
      session.pingTimer = setInterval(() => pingIfIdle(session), pingInterval);
      session.pingTimer.unref();
    }
    this.options.logger.debug({ address: session.connection.remoteAddress, clientId: this.clientId }, "registered with the broker");
    const reconnect = this.#state === "reconnecting";
    if (reconnect) this.#status.reconnects++;
    this.#setState("open", undefined);
    this.#publish({ type: "connected", server: formatHostPort(this.#address), serverId: this.serverId, reconnect });
  }

  #publish(event: ClientStatus): void {
    this.#status.publish(event);
    this.#hooks.onStatus?.(event);
  }

  #setState(state: ClientState, error: Error | undefined): void {
    if (this.#state === state) return;
    this.#state = state;
    notifyStateChange(this.options, state, error);
  }
}

/** Registration phase: only the ack with our requestId, or an ERROR, counts. */
function onRegistrationFrame(session: Session, frame: Frame): void {
  const registering = session.registering!;
  if (frame.type === FrameType.ERROR) {
    registering.settle(errorFromPayload(frame.payload));
    return;
  }
  const isAck = frame.type === FrameType.RESPONSE && (frame.flags & FrameFlags.REGISTRATION) !== 0;
  if (!isAck || !frame.requestId.equals(registering.requestId)) return;
  try {
    const ack = decodeRegistrationAck(frame.payload);
    if (ack.version !== undefined && compareVersions(ack.version, LATEST_VERSION) > 0) {
      throw new ProtocolError(`the broker's ack names protocol ${formatVersion(ack.version)}, newer than the ${formatVersion(LATEST_VERSION)} this client announced`);
    }
    registering.settle(null, ack);
  } catch (error) {
    registering.settle(error as Error);
  }
}

/** Sends a PING when, since the last tick, nothing was sent or nothing was received. */
function pingIfIdle(session: Session): void {
  const { socket } = session;
  if (socket.bytesRead === session.bytesRead || socket.bytesWritten === session.bytesWritten) {
    session.connection.sendFrame(FrameType.PING, FrameFlags.NONE, CONNECTION_ID);
  }
  session.bytesRead = socket.bytesRead;
  session.bytesWritten = socket.bytesWritten;
}

function stopPing(session: Session): void {
  if (session.pingTimer !== null) clearInterval(session.pingTimer);
  session.pingTimer = null;
}

function lossError(error: Error | undefined): DisconnectedError {
  if (error === undefined) return new DisconnectedError("the broker closed the connection");
  return disconnectedBy(error, "lost the connection to the broker");
}
