import type { Socket } from "node:net";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CONNECTION_ID,
  decodeRegistrationAck,
  encodeRegistration,
  type Frame,
  FrameFlags,
  FrameType,
  idToBytes,
  idToString,
  MAX_PAYLOAD,
  MAX_TIMEOUT_MS,
  newId,
  newIdString,
  type RegistrationAck,
  Role,
  ROUTING_HEADER_SIZE,
} from "@switchyard/protocol";
import { formatHostPort, type HostPort, parseAddress } from "./address.js";
import { backoffDelay } from "./backoff.js";
import { type BodyRoute, REQUEST_BODY_FRAMES, RESPONSE_BODY_FRAMES } from "./body-sender.js";
import { ClientClosedError } from "./client-errors.js";
import { type ClientTlsOptions, explainTlsFailure, resolveClientTls } from "./client-tls.js";
import { ConnectionContext, type ConnectionLimits, DEFAULT_READ_TIMEOUT } from "./connection-context.js";
import { dial } from "./dial.js";
import { errorFromPayload } from "./error-frame.js";
import { type ClientStatus, type ClientTransportStats, StatusFeed } from "./client-status.js";
import { ConnectError, DisconnectedError, disconnectedBy } from "./errors.js";
import { type Logger, silentLogger } from "./logger.js";
import { MAX_TIMER_MS, numberOption, stringOption } from "./option-checks.js";
import { AbortedError } from "./pool-errors.js";
import { settleWithin } from "./settle-within.js";
import { SocketReader } from "./socket-reader.js";
import {
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_ERROR_FRAMES,
  DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_WRITE_TIMEOUT,
} from "./socket-writer.js";

/** Default request deadline, ms: 5 s. Also sent in the registration as the connection's default. */
export const DEFAULT_REQUEST_TIMEOUT = 5000;
/** Default ms to dial and register before connecting fails with CONNECT_FAILED: 5 s. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;
/** Default ms between PINGs on a connection that sent or received nothing in that time: 30 s. */
export const DEFAULT_PING_INTERVAL = 30_000;
/** Default first reconnect delay, ms; it doubles per failed attempt (with jitter): 100 ms. */
export const DEFAULT_RECONNECT_DELAY = 100;
/** Default cap of the reconnect delay, ms: 5 s. */
export const DEFAULT_MAX_RECONNECT_DELAY = 5000;
/** Default reconnect attempts after the broker goes away before giving up: unlimited. */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = Number.POSITIVE_INFINITY;
/** Default ms close() waits for work in flight before failing what is left with CLOSED: 10 s. */
export const DEFAULT_CLOSE_TIMEOUT = 10_000;

/**
 * Where a client is:
 *
 *   connecting ──► open ──(broker lost)──► reconnecting ──► open …
 *       │            │                          │
 *       └─(failed)───┴──────── close() ──► closing ──► closed   (also: reconnect attempts exhausted)
 *
 * Only `open` carries requests; sends in any other state fail at once.
 */
export type ClientState = "connecting" | "open" | "reconnecting" | "closing" | "closed";

/** Options shared by Consumer and Provider; every field optional, defaults in DEFAULT_* constants. */
export interface ClientOptions extends ConnectionLimits {
  /** Default request deadline, ms, 1 ..= 2³²−1; sent in the registration. Default 5000. */
  timeout?: number;
  /** Ms allowed to dial and register, each time. Default 5000. */
  connectTimeout?: number;
  /** Ms between PINGs while the connection is idle in either direction; 0 disables. Default 30000. */
  pingInterval?: number;
  /** First reconnect delay, ms; doubles per attempt up to maxReconnectDelay, with jitter. Default 100. */
  reconnectDelay?: number;
  /** Largest reconnect delay, ms. Default 5000. */
  maxReconnectDelay?: number;
  /** Reconnect attempts before the client gives up and closes; 0 = never reconnect. Default Infinity. */
  maxReconnectAttempts?: number;
  /**
   * Ms close() waits for work in flight before failing what is left with CLOSED; it then gives the
   * goodbye up to writeTimeout, so close() resolves within closeTimeout + writeTimeout. Default 10000.
   */
  closeTimeout?: number;
  /** This client's id (UUID string), unique per instance. Default: a random one. */
  clientId?: string;
  /** Name for the broker's logs and metrics (registration extension 2). */
  clientName?: string;
  /** Token the broker checks (registration extension 1). */
  authToken?: string;
  /**
   * Connect with TLS: `true` or settings (`ca`, `cert`/`key` for mutual TLS, `servername`,
   * `rejectUnauthorized`). A `tls://` address means TLS without this option; a `tcp://` address
   * with it is refused. Default: plaintext unless the address is `tls://`.
   */
  tls?: ClientTlsOptions | boolean;
  /** Aborts the first connect (rejecting it with ABORTED); no effect once connected. */
  signal?: AbortSignal;
  /** Where the client logs; a pino logger fits. Default: silent. */
  logger?: Logger;
  /** Told of every state change; `error` says why the connection was lost or the client closed. */
  onStateChange?: (state: ClientState, error: Error | undefined) => void;
}

/** ClientOptions with every default applied and every value checked. */
export interface ResolvedClientOptions {
  timeout: number;
  connectTimeout: number;
  pingInterval: number;
  reconnectDelay: number;
  maxReconnectDelay: number;
  maxReconnectAttempts: number;
  closeTimeout: number;
  clientId: string;
  clientName: string | undefined;
  authToken: string | undefined;
  signal: AbortSignal | undefined;
  logger: Logger;
  onStateChange: ((state: ClientState, error: Error | undefined) => void) | undefined;
  connection: Required<ConnectionLimits>;
}

/** Resolves and checks ClientOptions; a bad value throws InvalidArgumentError naming the option. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const timer = { min: 1, max: MAX_TIMER_MS };
  const clientId = stringOption("clientId", options.clientId) ?? newIdString();
  idToBytes(clientId, "clientId");
  return {
    timeout: numberOption("timeout", options.timeout, DEFAULT_REQUEST_TIMEOUT, { min: 1, max: MAX_TIMEOUT_MS }),
    connectTimeout: numberOption("connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT, timer),
    pingInterval: numberOption("pingInterval", options.pingInterval, DEFAULT_PING_INTERVAL, { max: MAX_TIMER_MS }),
    reconnectDelay: numberOption("reconnectDelay", options.reconnectDelay, DEFAULT_RECONNECT_DELAY, timer),
    maxReconnectDelay: numberOption("maxReconnectDelay", options.maxReconnectDelay, DEFAULT_MAX_RECONNECT_DELAY, timer),
    maxReconnectAttempts: numberOption("maxReconnectAttempts", options.maxReconnectAttempts, DEFAULT_MAX_RECONNECT_ATTEMPTS),
    closeTimeout: numberOption("closeTimeout", options.closeTimeout, DEFAULT_CLOSE_TIMEOUT, { max: MAX_TIMER_MS }),
    clientId,
    clientName: stringOption("clientName", options.clientName),
    authToken: stringOption("authToken", options.authToken),
    signal: options.signal,
    logger: options.logger ?? silentLogger,
    onStateChange: options.onStateChange,
    connection: {
      readTimeout: numberOption("readTimeout", options.readTimeout, DEFAULT_READ_TIMEOUT, { max: MAX_TIMER_MS }),
      writeTimeout: numberOption("writeTimeout", options.writeTimeout, DEFAULT_WRITE_TIMEOUT, timer),
      maxQueuedFrames: numberOption("maxQueuedFrames", options.maxQueuedFrames, DEFAULT_MAX_QUEUED_FRAMES, { min: 1 }),
      maxQueuedErrorFrames: numberOption("maxQueuedErrorFrames", options.maxQueuedErrorFrames, DEFAULT_MAX_QUEUED_ERROR_FRAMES, { min: 1 }),
      maxQueuedBytes: numberOption("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, { min: 1 }),
    },
  };
}

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
    this.#status.publish({ type: "closed", error: undefined });
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
    this.#status.publish({ type: "disconnected", server: formatHostPort(this.#address), error: lost });
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
        this.#status.publish({ type: "reconnecting", server: formatHostPort(this.#address), attempt: attempt + 1, delayMs });
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
    this.#status.publish({ type: "closed", error: reason });
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
    session.route = {
      connection: session.connection,
      frames: consumer ? REQUEST_BODY_FRAMES : RESPONSE_BODY_FRAMES,
      maxPayload: this.maxPayload,
      reserve: consumer ? ROUTING_HEADER_SIZE : 0,
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
    this.#status.publish({ type: "connected", server: formatHostPort(this.#address), serverId: this.serverId, reconnect });
  }

  #setState(state: ClientState, error: Error | undefined): void {
    if (this.#state === state) return;
    this.#state = state;
    try {
      this.options.onStateChange?.(state, error);
    } catch (listenerError) {
      this.options.logger.warn({ error: String(listenerError) }, "onStateChange threw");
    }
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
    registering.settle(null, decodeRegistrationAck(frame.payload));
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
