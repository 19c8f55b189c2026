import type { Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import { CONNECTION_ID, encodeErrorBody, encodeFrame, FrameFlags, FrameType, WIRE_ERROR_CODES } from "@switchyard/protocol";
import type { CertificateIdentity } from "@switchyard/transport";
import { peerIdentity, type ResolvedServerTls } from "@switchyard/transport/internal";
import type { BrokerLogger } from "../logger.js";

/** The first byte of a TLS record carrying a handshake (a ClientHello): never a frame's version byte. */
const TLS_HANDSHAKE_RECORD = 0x16;

/** Ms a refused connection gets to read its error before it is cut. */
const GOODBYE_MS = 1000;

/** Where the gate sends what it lets in, and what it turns away. */
export interface GateSink {
  /** A connection ready for frames: plaintext, or TLS with its handshake done (`raw`: the TCP socket under it, or itself). */
  admitted(socket: Socket, identity: CertificateIdentity | null, raw: Socket): void;
  /** A connection turned away before its first frame (wrong protocol, stalled, failed handshake). */
  refused(): void;
}

/**
 * Stands between the listening socket and the broker. On a plaintext port it admits every socket
 * at once (nothing is added to the plaintext path; a TLS client's ClientHello is then a frame with
 * a bad version byte, answered PROTOCOL_ERROR, which its TLS stack reports at once as "wrong
 * version number"). On a TLS port a new connection's first byte says whether the client speaks
 * TLS (0x16, a handshake record) or Switchyard frames (version 1):
 *
 *   TLS port ── TLS ─────► handshake (node:tls, TLS ≥ 1.2) ──► admitted with its certificate
 *            └─ frames ──► ERROR(PROTOCOL_ERROR, "this port speaks TLS …") on requestId 0, closed
 *
 * A connection to a TLS port must send its first byte within `handshakeTimeout` and finish the
 * handshake within as long again; the listening server's maxConnections counts it all along, so a
 * client that opens and stalls cannot hold a slot for longer. Once admitted, the broker's
 * registration deadline applies, as to a plaintext connection.
 */
export class ConnectionGate {
  readonly #sink: GateSink;
  readonly #logger: BrokerLogger;
  readonly #handshakeTimeout: number;
  /** Does the TLS handshakes (never listens itself); null on a plaintext port. */
  readonly #tlsServer: TlsServer | null;
  /** TLS port: accepted sockets not yet admitted or turned away. */
  readonly #pending = new Set<Socket>();
  #closed = false;

  constructor(tls: ResolvedServerTls | null, handshakeTimeout: number, logger: BrokerLogger, sink: GateSink) {
    this.#sink = sink;
    this.#logger = logger;
    this.#handshakeTimeout = handshakeTimeout;
    this.#tlsServer = tls === null ? null : this.#makeTlsServer(tls);
  }

  /** True on a TLS port. */
  get tls(): boolean {
    return this.#tlsServer !== null;
  }

  /** Connections in the gate now (TLS port): waiting for their first byte or in their TLS handshake. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Takes a freshly accepted socket through the gate. */
  accept(socket: Socket): void {
    if (this.#closed) {
      this.#sink.refused();
      socket.destroy();
      return;
    }
    const tlsServer = this.#tlsServer;
    if (tlsServer === null) {
      this.#sink.admitted(socket, null, socket);
      return;
    }
    this.#pending.add(socket);
    socket.once("close", () => this.#pending.delete(socket));
    const timer = setTimeout(() => {
      this.#logger.debug({ remote: socket.remoteAddress }, `connection sent nothing within ${this.#handshakeTimeout} ms: closed`);
      this.#sink.refused();
      socket.destroy();
    }, this.#handshakeTimeout);
    const onClose = () => clearTimeout(timer);
    socket.once("close", onClose);
    socket.once("error", () => {}); // a reset before the first byte: 'close' follows
    socket.once("data", (first: Buffer) => {
      clearTimeout(timer);
      socket.off("close", onClose);
      socket.pause();
      socket.unshift(first);
      this.#route(socket, first[0] === TLS_HANDSHAKE_RECORD, tlsServer);
    });
  }

  /** Closes every connection still in the gate and lets no more through (the broker is stopping). */
  close(): void {
    this.#closed = true;
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
  }

  /** Hands a socket over, unless the gate has closed meanwhile. */
  #admit(raw: Socket, socket: Socket, identity: CertificateIdentity | null): void {
    this.#pending.delete(raw);
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#sink.admitted(socket, identity, raw);
  }

  /**
   * Uses a new certificate, key and CA for handshakes from now on; connections already open keep
   * theirs. Throws (leaving the old ones in use) when they cannot be used.
   */
  setSecureContext(tls: ResolvedServerTls): void {
    if (this.#tlsServer === null) throw new Error("this broker was started without TLS");
    this.#tlsServer.setSecureContext(tls.context);
  }

  /** A TLS port's connection after its first byte: to the handshake, or told to use TLS. */
  #route(socket: Socket, speaksTls: boolean, tlsServer: TlsServer): void {
    if (!speaksTls) {
      this.#logger.warn({ remote: socket.remoteAddress }, "a plaintext client connected to this TLS port: told so, closed");
      this.#sink.refused();
      const message = "this broker port speaks TLS: connect with tls://host:port (or the tls option)";
      goodbye(socket, Buffer.concat(encodeFrame(FrameType.ERROR, FrameFlags.NONE, CONNECTION_ID, encodeErrorBody({ wireCode: WIRE_ERROR_CODES.PROTOCOL_ERROR, message }))));
      return;
    }
    tlsServer.emit("connection", socket);
  }

  #makeTlsServer(tls: ResolvedServerTls): TlsServer {
    const server = createTlsServer({
      ...tls.context,
      requestCert: tls.requestCert,
      rejectUnauthorized: tls.rejectUnauthorized,
      handshakeTimeout: this.#handshakeTimeout,
    });
    server.on("secureConnection", (socket: TLSSocket) => {
      const { identity, problem } = peerIdentity(socket);
      if (problem !== null) {
        // clientAuth "request": no certificate is fine, one that does not verify is refused
        this.#logger.warn({ remote: socket.remoteAddress, problem }, "client certificate refused");
        this.#sink.refused();
        const body = encodeErrorBody({ wireCode: WIRE_ERROR_CODES.UNAUTHORIZED, message: `registration refused: ${problem}` });
        goodbye(socket, Buffer.concat(encodeFrame(FrameType.ERROR, FrameFlags.NONE, CONNECTION_ID, body)));
        return;
      }
      // _parent: the raw socket under a TLSSocket that wraps one (node:tls sets it; it is what #pending holds)
      this.#admit((socket as TLSSocket & { _parent?: Socket })._parent ?? socket, socket, identity);
    });
    server.on("tlsClientError", (error, socket) => {
      this.#logger.debug({ remote: socket.remoteAddress, code: (error as NodeJS.ErrnoException).code, reason: error.message }, "TLS handshake failed");
      this.#sink.refused();
      // with a listener, node:tls leaves the socket open (e.g. after its handshake timeout)
      socket.destroy();
    });
    return server;
  }
}

/** Writes `frame`, half-closes, and cuts the connection if the client has not closed it within GOODBYE_MS. */
function goodbye(socket: Socket, frame: Buffer): void {
  socket.on("error", () => {});
  socket.end(frame);
  setTimeout(() => socket.destroy(), GOODBYE_MS).unref();
}
