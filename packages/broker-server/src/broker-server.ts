import { createServer, type Server, type Socket } from "node:net";
import {
  BrokerError,
  CONNECTION_ID,
  encodeRegistrationAck,
  FLOW_CONTROL_SINCE_MINOR,
  InvalidArgumentError,
  type Frame,
  FrameFlags,
  FrameType,
  idToString,
  LATEST_VERSION,
  negotiateVersion,
  PROTOCOL_VERSION,
  type Registration,
  Role,
} from "@switchyard/protocol";
import type { CertificateIdentity, ServerTlsOptions } from "@switchyard/transport";
import { type ConnectionOptions, RequestIds, type ResolvedServerTls, resolveServerTls, settleWithin } from "@switchyard/transport/internal";
import { AccessList, type AclDocument } from "./acl/access-list.js";
import { type AdmissionPolicy, admit, samePrincipal } from "./admission.js";
import { ClosedConnections } from "./closed-connections.js";
import { LatencyHistogram } from "./latency-histogram.js";
import type { BrokerView } from "./monitor/broker-view.js";
import { MonitorServer } from "./monitor/monitor-server.js";
import { loadStatusPage } from "./monitor/status-page-files.js";
import { OperatorLog } from "./operator-log.js";
import { CLIENT_ID_OF_ANOTHER, ListenError, NotListeningError, ServerClosedError, WIRE } from "./errors.js";
import {
  type BrokerServerOptions,
  NUMERIC_OPTIONS,
  type NumericOption,
  type ResolvedBrokerServerOptions,
  resolveBrokerServerOptions,
} from "./options.js";
import { addressShareKey, PendingConnections } from "./pending-connections.js";
import { Peer, type PeerOwner } from "./peer.js";
import { Registry } from "./registry.js";
import { Router } from "./router.js";
import type { BrokerStats } from "./stats.js";
import type { BrokerRequest } from "./broker-request.js";
import { ConnectionGate } from "./tls/connection-gate.js";

/** Lifecycle: new → starting → listening → stopping → stopped. */
export type BrokerServerState = "new" | "starting" | "listening" | "stopping" | "stopped";

/** Options of `start()`. */
export interface StartOptions {
  /** Aborting gives up listening: start() rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `stop()`. */
export interface StopOptions {
  /** Ms to wait for in-flight requests before failing them with SHUTTING_DOWN. Default: the drainTimeout option. */
  timeout?: number;
  /** Aborting ends the drain at once, as if the timeout had passed. */
  signal?: AbortSignal;
}

/**
 * The Switchyard broker: accepts consumer and provider connections, registers them by clientId
 * and channel, and routes each request to the least-loaded provider of its channel and the
 * response back (docs/protocol.md §1).
 *
 * ```ts
 * const server = new BrokerServer({ port: 9090, host: "127.0.0.1" });
 * await server.start();
 * console.log(server.address()); // { host: "127.0.0.1", port: 9090 }
 * await server.stop();           // drains: new requests get SHUTTING_DOWN, in-flight ones finish
 * ```
 */
export class BrokerServer {
  readonly #options: ResolvedBrokerServerOptions;
  readonly #connectionOptions: ConnectionOptions;
  readonly #server: Server;
  readonly #registry = new Registry();
  readonly #router: Router;
  readonly #peers = new Set<Peer>();
  /** The ack to a client that announced no version (a 1.0 client): the 21 bytes 1.0 defines. */
  readonly #ack: Buffer;
  readonly #admission: AdmissionPolicy;
  /** Connections not registered yet: Peers, and on a TLS port the raw sockets still in the gate. */
  readonly #pending: PendingConnections<Peer | Socket>;
  /** Sent to a connection that did not register by its deadline. */
  readonly #registrationLate: BrokerError;
  readonly #gate: ConnectionGate;
  #tls: ResolvedServerTls | null;
  #acl: AccessList | null;
  #state: BrokerServerState = "new";
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #refusedConnections = 0;
  /** Totals, bytes and a ring of recent closes (the monitor's /connections). */
  readonly #closed = new ClosedConnections();
  readonly #operatorLog: OperatorLog;
  readonly #monitor: MonitorServer | null = null;
  /** What every Peer reports to; kept private so frames enter only from sockets. */
  readonly #owner: PeerOwner = {
    onFrame: (peer, frame) => this.#onFrame(peer, frame),
    onClose: (peer, error) => this.#onClose(peer, error),
    // the close that follows logs why
    onViolation: () => this.#router.counters.errorsSent.PROTOCOL_ERROR++,
    onQuiet: (peer) => this.#onQuiet(peer),
  };

  /** Checks every option (InvalidArgumentError naming a bad one); nothing listens until start(). */
  constructor(options: BrokerServerOptions = {}) {
    const resolved = resolveBrokerServerOptions(options);
    this.#options = resolved;
    this.#connectionOptions = {
      maxWriteQueueFrames: resolved.maxWriteQueueFrames,
      maxWriteQueueErrorFrames: resolved.maxWriteQueueErrorFrames,
      maxWriteQueueBytes: resolved.maxWriteQueueBytes,
      writeTimeout: resolved.writeTimeout,
      readTimeout: resolved.readTimeout,
      maxPayload: resolved.maxPayloadBytes,
      // CHUNK and RESPONSE_CHUNK bytes are forwarded as read, never gathered into one buffer first
      keepChunkParts: true,
    };
    this.#router = new Router(resolved, new RequestIds<BrokerRequest>(resolved.serverId));
    this.#operatorLog = new OperatorLog(resolved.logger);
    this.#router.onOverloaded = (consumer) => this.#operatorLog.overloaded(consumer);
    if (resolved.monitor !== null) {
      this.#router.latency = new LatencyHistogram();
      this.#monitor = new MonitorServer(resolved.monitor, this.#view(), resolved.logger, loadStatusPage());
    }
    this.#ack = encodeRegistrationAck({ protocolVersion: PROTOCOL_VERSION, maxPayload: resolved.maxPayloadBytes, serverId: resolved.serverId });
    const server = this;
    this.#tls = resolved.tls;
    this.#acl = resolved.acl;
    this.#admission = {
      authTokens: resolved.authTokens.map((token) => Buffer.from(token, "utf8")),
      get acl() {
        return server.#acl;
      },
      defaultProviderCapacity: resolved.defaultProviderCapacity,
      get draining() {
        return server.#state !== "listening";
      },
    };
    this.#pending = new PendingConnections(resolved.registrationTimeout, resolved.maxUnregisteredPerAddress, (connection) => {
      // a socket still in the TLS gate (handshaking, or silent) has no frame to be told why with
      if (connection instanceof Peer) this.#registrationTimedOut(connection);
      else connection.destroy();
    });
    this.#registrationLate = new BrokerError("NOT_REGISTERED", `no registration within ${resolved.registrationTimeout} ms of connecting; connection closed`);
    this.#gate = new ConnectionGate(resolved.tls, resolved.handshakeTimeout, resolved.logger, {
      admitted: (socket, identity, raw) => {
        this.#pending.remove(raw); // its Peer takes its place below, with a registration deadline of its own
        this.#onConnection(socket, identity);
      },
      refused: () => this.#refusedConnections++,
    });
    this.#server = createServer({ noDelay: true }, (socket) => {
      if (this.#state !== "listening") {
        this.#refusedConnections++;
        socket.destroy();
        return;
      }
      if (this.#gate.tls && !this.#holdAgainstShare(socket)) return;
      this.#gate.accept(socket);
    });
    this.#server.maxConnections = resolved.maxConnections;
    this.#server.on("drop", () => this.#refusedConnections++);
    // A failure to listen is start()'s rejection, reported by its caller; log only later errors.
    this.#server.on("error", (error) => {
      if (this.#state !== "starting") resolved.logger.error({ err: error }, "broker server error");
    });
  }

  /** Where it is in its life. */
  get state(): BrokerServerState {
    return this.#state;
  }

  /** TLS as served now (certificate subject, expiry, client auth), or null for a plaintext broker. */
  get tls(): { subject: string; validTo: Date; clientAuth: ResolvedServerTls["clientAuth"] } | null {
    const tls = this.#tls;
    return tls === null ? null : { subject: tls.subject, validTo: tls.validTo, clientAuth: tls.clientAuth };
  }

  /**
   * Serves a new certificate, key and CA from now on (a renewed certificate), without dropping a
   * connection: open ones keep the session they have. Throws InvalidArgumentError, keeping the
   * ones in use, when the new ones cannot be used (e.g. a key that does not match the
   * certificate, as when only one of the two files has been replaced yet). A plaintext broker
   * cannot start serving TLS: that is a new port.
   */
  setTls(options: ServerTlsOptions): void {
    if (this.#tls === null) throw new InvalidArgumentError("this broker was created without the tls option; it cannot start serving TLS");
    const resolved = resolveServerTls(options);
    if (resolved.clientAuth !== this.#tls.clientAuth) {
      throw new InvalidArgumentError(`tls.clientAuth cannot change while running (${this.#tls.clientAuth} → ${resolved.clientAuth}); restart the broker`);
    }
    this.#gate.setSecureContext(resolved);
    this.#tls = resolved;
    this.#options.logger.info({ subject: resolved.subject, validTo: resolved.validTo.toISOString() }, "TLS certificate loaded");
  }

  /**
   * Replaces the per-channel permissions (null: none). Registered connections that the new ACL no
   * longer lets in are sent ERROR(FORBIDDEN) on requestId zero and closed (their requests end as a
   * lost connection's do); the others, and their requests in flight, are untouched. Throws
   * InvalidArgumentError, keeping the ACL in use, when the document is not a valid ACL. Returns how
   * many connections it closed.
   */
  setAcl(document: AclDocument | null): number {
    const acl = document === null ? null : AccessList.from(document);
    this.#acl = acl;
    let closed = 0;
    if (acl !== null) {
      for (const peer of this.#peers) {
        if (peer.role === 0) continue;
        const verdict = acl.decide({ tokenDigest: peer.tokenDigest, identity: peer.identity }, peer.role, idToString(Buffer.from(peer.channel!.key, "latin1")));
        if (verdict.allowed) continue;
        closed++;
        const message = verdict.code === "FORBIDDEN" ? verdict.message : "no ACL principal matches this token or client certificate any more";
        this.#router.counters.errorsSent.FORBIDDEN++;
        this.#options.logger.info({ ...peer.describe(), reason: message }, "ACL reload: rights withdrawn, connection closed");
        peer.refuse(CONNECTION_ID, new BrokerError("FORBIDDEN", `rights withdrawn by an ACL reload: ${message.replace(/^registration refused: /, "")}`));
      }
    }
    this.#options.logger.info({ principals: acl?.size ?? 0, closed }, "ACL loaded");
    return closed;
  }

  /** The id this broker sends in registration acks (UUID string). */
  get serverId(): string {
    return idToString(this.#options.serverId);
  }

  /**
   * Starts listening; resolves once connections are accepted. Idempotent while starting or
   * listening. Rejects with ListenError (cause: Node's error, e.g. EADDRINUSE), or
   * ServerClosedError after stop().
   */
  start(options: StartOptions = {}): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") {
      return Promise.reject(new ServerClosedError("this BrokerServer was stopped; create a new one"));
    }
    this.#starting ??= this.#listen(options.signal).catch((error: unknown) => {
      this.#starting = null;
      if (this.#state === "starting") this.#state = "new";
      throw error;
    });
    return this.#starting;
  }

  /** The address it listens on (the real port when started with port 0). Throws NotListeningError before start(). */
  address(): { host: string; port: number } {
    const address = this.#state === "listening" || this.#state === "stopping" ? this.#server.address() : null;
    if (address === null || typeof address === "string") throw new NotListeningError("the broker is not listening; await start() first");
    return { host: address.address, port: address.port };
  }

  /** Where the monitoring listener is, or null when there is none (no `monitor` option) or it is not listening. */
  monitorAddress(): { host: string; port: number } | null {
    return this.#monitor?.address() ?? null;
  }

  /**
   * Drains and closes: stops accepting connections and registrations, answers new requests with
   * SHUTTING_DOWN, lets in-flight and waiting requests finish for up to `timeout` ms, then fails
   * what is left with SHUTTING_DOWN and closes every connection (flushing first, bounded by the
   * write timeout). Idempotent: every call returns the same promise.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#drainAndClose(options.timeout ?? this.#options.drainTimeout, options.signal);
    return this.#stopping;
  }

  /** For `await using server = new BrokerServer(…)`: stop() — drain, then close — at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** A snapshot of connections, requests, queues and counters (see BrokerStats). */
  stats(): BrokerStats {
    let maxFrames = 0;
    let maxErrorFrames = 0;
    let maxBytes = 0;
    let bytesReceived = this.#closed.bytesRead;
    let bytesSent = this.#closed.bytesWritten;
    for (const peer of this.#peers) {
      const ctx = peer.ctx;
      maxFrames = Math.max(maxFrames, ctx.queuedFrames);
      maxErrorFrames = Math.max(maxErrorFrames, ctx.queuedErrorFrames);
      maxBytes = Math.max(maxBytes, ctx.queuedBytes);
      bytesReceived += ctx.bytesRead;
      bytesSent += ctx.bytesWritten;
    }
    const router = this.#router;
    const counters = router.counters;
    return {
      connections: this.#peers.size + this.#gate.pending,
      consumers: this.#registry.consumers,
      providers: this.#registry.providers,
      channels: this.#registry.channels,
      inFlight: router.inFlight,
      queued: router.queued,
      queuedRequestBytes: router.queuedBytes,
      streamHeldBytes: router.streamHeldBytes,
      writeQueue: { maxFrames, maxErrorFrames, maxBytes },
      requests: counters.requests,
      completed: counters.completed,
      overloaded: counters.errorsSent.OVERLOADED,
      refusedConnections: this.#refusedConnections,
      droppedFrames: counters.droppedFrames,
      slowPeersClosed: this.#closed.count("SLOW_PEER"),
      idleConnectionsClosed: this.#closed.count("IDLE_TIMEOUT"),
      bytesReceived,
      bytesSent,
      errorsSent: { ...counters.errorsSent },
    };
  }

  /** Every frame of every connection, in order. */
  #onFrame(peer: Peer, frame: Frame): void {
    const role = peer.role;
    if (role === 0) {
      this.#register(peer, frame);
      return;
    }
    const type = frame.type;
    if (type === FrameType.PING) {
      if (!peer.ctx.sendFrame(FrameType.PONG, FrameFlags.NONE, frame.requestId, frame.payload)) this.#router.counters.droppedFrames++;
    } else if (type === FrameType.PONG) {
      // the answer to a liveness PING (#onQuiet): receiving it is all that counts
    } else if (role === Role.CONSUMER) this.#router.onConsumerFrame(peer, frame);
    else this.#router.onProviderFrame(peer, frame);
  }

  /**
   * Nothing received from `peer` for half the read timeout. A peer that requests depend on is sent
   * a PING: a live one answers PONG, which keeps it open; one that is frozen or half-open answers
   * nothing and is closed at the read timeout, its requests settled as any lost peer's are. An idle
   * peer is not pinged: clients PING on their own when idle, and a silent idle socket is closed.
   */
  #onQuiet(peer: Peer): void {
    if (peer.role === 0 || !peer.hasWorkInFlight) return;
    this.#options.logger.debug({ ...peer.describe(), readTimeout: this.#options.readTimeout }, "silent with work in flight: PING");
    if (!peer.ctx.sendFrame(FrameType.PING, FrameFlags.NONE, CONNECTION_ID)) this.#router.counters.droppedFrames++;
  }

  /** A connection closed, for whatever reason. */
  #onClose(peer: Peer, error: Error | undefined): void {
    this.#peers.delete(peer);
    const log = this.#options.logger;
    const reason = error === undefined ? {} : { code: (error as { code?: string }).code ?? error.name, reason: error.message };
    const closed = this.#closed.record(peer, error);
    if (closed.reason === "SLOW_PEER" || closed.reason === "IDLE_TIMEOUT" || closed.reason === "PROTOCOL_ERROR") {
      this.#operatorLog.connectionClosed(peer, closed.reason, closed.message);
    }
    if (peer.role === 0) {
      this.#pending.remove(peer);
      log.debug({ ...peer.describe(), ...reason }, "connection closed before registering");
      return;
    }
    // a connection taken over has left the registry and settled its requests already
    if (this.#registry.remove(peer)) this.#leave(peer);
    log.debug({ ...peer.describe(), ...reason }, "client disconnected");
  }

  /** A registered peer is out of the registry: its requests get their outcomes, its channel may go. */
  #leave(peer: Peer): void {
    this.#router.peerLeft(peer);
    this.#registry.prune(peer.channel!);
  }

  /** What the monitor reads: read-only views of the broker's own state, nothing copied per request. */
  #view(): BrokerView {
    const server = this;
    const limits = Object.fromEntries(Object.keys(NUMERIC_OPTIONS).map((name) => [name, this.#options[name as NumericOption]])) as Record<NumericOption, number>;
    const latency = this.#router.latency!;
    const startedAt = Date.now();
    return {
      serverId: this.serverId,
      get state() {
        return server.#state;
      },
      startedAt,
      limits,
      stats: () => this.stats(),
      peers: () => this.#peers,
      channels: () => this.#registry.channelValues(),
      latency,
      closed: this.#closed,
    };
  }

  async #listen(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.#state = "starting";
    // the monitor listens first, so a probe sees 503 on /readyz until the broker accepts clients
    await this.#monitor?.listen();
    try {
      await this.#listenForClients(signal);
    } catch (error) {
      await this.#monitor?.close();
      throw error;
    }
  }

  #listenForClients(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#state = "starting";
    const { port, host, logger } = this.#options;
    return new Promise<void>((resolve, reject) => {
      const server = this.#server;
      const onError = (error: Error) => {
        cleanup();
        reject(new ListenError(`cannot listen on ${host}:${port}: ${listenFailure(error)}`, { cause: error }));
      };
      const onAbort = () => {
        cleanup();
        server.close();
        reject(signal!.reason);
      };
      const cleanup = () => {
        server.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
      };
      server.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
      server.listen({ port, host }, () => {
        cleanup();
        this.#state = "listening";
        const tls = this.tls === null ? {} : { tls: true, certificate: this.tls.subject, validTo: this.tls.validTo.toISOString(), clientAuth: this.tls.clientAuth };
        logger.info({ ...this.address(), serverId: this.serverId, ...tls, acl: this.#acl !== null }, "broker listening");
        resolve();
      });
    });
  }

  /**
   * On a TLS port: counts a socket entering the gate against its address's share of unregistered
   * connections and starts its registration deadline, so handshakes that stall cannot fill
   * maxConnections either. False (and the socket closed) when the address has no room.
   */
  #holdAgainstShare(socket: Socket): boolean {
    const address = addressShareKey(socket.remoteAddress);
    if (!this.#pending.hasRoom(address)) {
      this.#refusedConnections++;
      this.#options.logger.debug({ remote: socket.remoteAddress, address }, "connection refused: too many unregistered connections from its address");
      socket.destroy();
      return false;
    }
    this.#pending.add(socket, address);
    socket.once("close", () => this.#pending.remove(socket));
    return true;
  }

  /** A connection through the gate (accepted while listening; it may arrive while draining, to be told SHUTTING_DOWN). */
  #onConnection(socket: Socket, identity: CertificateIdentity | null): void {
    const address = addressShareKey(socket.remoteAddress);
    if (!this.#pending.hasRoom(address)) {
      this.#refusedConnections++;
      this.#options.logger.debug({ remote: socket.remoteAddress, address }, "connection refused: too many unregistered connections from its address");
      socket.destroy();
      return;
    }
    const peer = new Peer(socket, this.#owner, this.#connectionOptions);
    peer.identity = identity;
    this.#peers.add(peer);
    this.#pending.add(peer, address);
    this.#options.logger.debug(peer.describe(), "connection accepted");
  }

  /** A connection sent no registration by its deadline (a slow trickle, or nothing at all). */
  #registrationTimedOut(peer: Peer): void {
    if (peer.ctx.state !== "open") return;
    this.#router.counters.errorsSent.NOT_REGISTERED++;
    this.#options.logger.debug({ ...peer.describe(), registrationTimeout: this.#options.registrationTimeout }, "no registration by the deadline: closed");
    this.#dismiss(peer, this.#registrationLate);
  }

  /** Tells `peer` why on the connection id and closes it: flushed if it drains within the write timeout, else cut. */
  #dismiss(peer: Peer, error: BrokerError): void {
    peer.ctx.sendError(CONNECTION_ID, error);
    void settleWithin(peer.ctx.close(), this.#options.writeTimeout).then(() => peer.ctx.destroy());
  }

  #register(peer: Peer, frame: Frame): void {
    this.#pending.remove(peer); // registered or refused (and closing): its deadline is over
    const verdict = admit(frame, this.#admission, peer.identity);
    if (!("registration" in verdict)) {
      this.#router.counters.errorsSent[verdict.code as keyof BrokerStats["errorsSent"]]++;
      // a client registering while the broker drains is routine, not something to act on
      if (verdict.code === "SHUTTING_DOWN") this.#options.logger.debug({ ...peer.describe(), code: verdict.code }, "registration refused");
      else this.#operatorLog.registrationRefused(peer, verdict.code, verdict.message, frame);
      peer.refuse(frame.requestId, verdict);
      return;
    }
    const previous = this.#registry.client(verdict.registration.clientId);
    if (previous !== undefined && !samePrincipal(previous, { tokenDigest: verdict.tokenDigest, identity: peer.identity })) {
      this.#router.counters.errorsSent.DUPLICATE_CLIENT++;
      this.#operatorLog.registrationRefused(peer, CLIENT_ID_OF_ANOTHER.code, CLIENT_ID_OF_ANOTHER.message, frame);
      peer.refuse(frame.requestId, CLIENT_ID_OF_ANOTHER);
      return;
    }
    if (previous !== undefined) this.#registry.remove(previous);
    this.#registry.add(peer, verdict.registration, verdict.capacity);
    peer.tokenDigest = verdict.tokenDigest;
    peer.ctx.sendFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, frame.requestId, this.#ackFor(verdict.registration));
    this.#options.logger.debug({ ...peer.describe(), ...(peer.role === Role.PROVIDER ? { capacity: peer.capacity } : {}) }, "client registered");
    // the old connection leaves after the new one joined its channel, so that requests waiting
    // there stay for the new provider instead of failing NO_PROVIDER in between
    if (previous !== undefined) this.#takenOver(previous);
    if (peer.role === Role.PROVIDER) this.#router.providerJoined(peer);
  }

  /**
   * The ack to `registration` (docs/protocol.md §1.5 "Version negotiation"): to a client that
   * announced the highest version it speaks, the 21 bytes and the version the connection uses
   * (the older of the two, which the registry gave the peer); to one that announced nothing, the
   * 21 bytes alone, as a 1.0 broker sends them.
   */
  #ackFor(registration: Registration): Buffer {
    if (registration.version === undefined) return this.#ack;
    const { maxPayloadBytes: maxPayload, serverId, streamWindowBytes } = this.#options;
    const version = negotiateVersion(registration.version, LATEST_VERSION);
    // 1.1: the window the broker grants each body it receives from this client (§1.20)
    const streamWindow = version.major === 1 && version.minor >= FLOW_CONTROL_SINCE_MINOR ? streamWindowBytes : undefined;
    return encodeRegistrationAck({ protocolVersion: PROTOCOL_VERSION, maxPayload, serverId, version, ...(streamWindow === undefined ? {} : { streamWindow }) });
  }

  /**
   * A new registration took `previous`'s clientId (MQTT's rule: the newest connection of a client
   * wins; the old one is most likely half-open, its client already reconnected). Its requests get
   * their outcomes as if it had disconnected — a provider's fail with PROVIDER_GONE, a consumer's
   * are cancelled at their providers — and it is told DUPLICATE_CLIENT on the connection id and
   * closed (destroyed if it does not drain within the write timeout).
   */
  #takenOver(previous: Peer): void {
    this.#leave(previous);
    this.#router.counters.errorsSent.DUPLICATE_CLIENT++;
    this.#options.logger.info(previous.describe(), "clientId registered again on a new connection: the old connection is closed");
    this.#dismiss(previous, WIRE.DUPLICATE_CLIENT);
  }

  async #drainAndClose(timeout: number, signal: AbortSignal | undefined): Promise<void> {
    const { logger, writeTimeout } = this.#options;
    if (this.#state === "starting") await this.#starting?.catch(() => {}); // otherwise stay synchronous: draining starts now
    const wasListening = this.#state === "listening";
    this.#state = "stopping";
    const serverClosed = wasListening ? new Promise<void>((resolve) => this.#server.close(() => resolve())) : Promise.resolve();
    this.#router.beginDrain();
    logger.info({ inFlight: this.#router.inFlight, queued: this.#router.queued, timeoutMs: timeout }, "broker draining");
    await settleWithin(this.#router.whenIdle(), timeout, signal);
    if (this.#router.live > 0) {
      logger.warn({ live: this.#router.live }, "drain timeout: failing the requests left with SHUTTING_DOWN");
      this.#router.failAll(this.#peers, WIRE.SHUTTING_DOWN);
    }
    this.#gate.close();
    const peers = [...this.#peers];
    await settleWithin(Promise.all(peers.map((peer) => peer.ctx.close())), writeTimeout);
    for (const peer of peers) peer.ctx.destroy();
    await serverClosed;
    this.#router.close();
    this.#operatorLog.close();
    await this.#monitor?.close();
    this.#state = "stopped";
    logger.info({}, "broker stopped");
  }
}

/** Why listening failed, and what to do about it, for ListenError's message. */
function listenFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "EADDRINUSE":
      return "EADDRINUSE (another process holds the port: stop it, or choose another port)";
    case "EACCES":
      return "EACCES (this user may not listen there: choose a port above 1023, or grant the permission)";
    case "EADDRNOTAVAIL":
      return "EADDRNOTAVAIL (no interface of this machine has that address: check the host)";
    default:
      return error.code ?? error.message;
  }
}
