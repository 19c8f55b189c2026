import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { type AnetFrame, type AnetLengthSize, maxAnetBody, refuseOversizedAnetBody } from "@switchyard/protocol";
import { type HostPort, type Logger, type ServerTlsOptions, SlowPeerError } from "@switchyard/transport";
import { DEFAULT_HANDSHAKE_TIMEOUT, FramedConnection, numberOption, peerIdentity, resolveServerTls, silentLogger } from "@switchyard/transport/internal";
import { AnetFrames } from "./anet-frames.js";
import { DEFAULT_MAX_INFLIGHT_PER_CONN, DEFAULT_WRITE_TIMEOUT, ms, resolveAnetCodec } from "./broker-options.js";

/** What the server knows about one request besides its body. */
export interface AnetRequestInfo {
  /** The task id the client chose; the response carries it back. */
  taskId: number;
  /** "host:port" of the client. */
  remoteAddress: string;
}

/** Answers one request. A string answers as UTF-8. */
export type AnetHandler = (body: Buffer, info: AnetRequestInfo) => Uint8Array | string | Promise<Uint8Array | string>;

/** Options of `createAnetServer`; every field optional. */
export interface AnetServerOptions {
  /** Length prefix width: 2 (u16) or 4 (u32). Default 2. */
  lengthSize?: AnetLengthSize;
  /** Largest request and response body, in bytes. Default: 65 531 with lengthSize 2, 16 MiB with 4. */
  maxBodyBytes?: number;
  /**
   * Requests in flight on one connection: handler calls running at once there; further requests
   * wait and the socket is paused. Default 256, the Broker's `maxInflightPerConn`: what one end may
   * pipeline, the other runs.
   */
  maxInflightPerConn?: number;
  /** Ms a client may leave its socket unread before its connection is closed. Default 5000. */
  writeTimeout?: number;
  /** Where failed connections are reported (handler errors, bad frames); `console` or pino. Default: silent. */
  logger?: Logger;
  /**
   * Serve TLS (1.2 at least) with this certificate and key; `ca` and `clientAuth` ("request" or
   * "require") ask clients for certificates signed by `ca`. Default: plaintext.
   */
  tls?: ServerTlsOptions;
  /** Ms a TLS client has to finish its handshake before it is disconnected. Default 10000. */
  handshakeTimeout?: number;
}

/** A listening anet service. */
export interface AnetServer {
  /** Listens on `port` (0 picks a free one) and `host`; resolves with the address bound. */
  listen(port?: number, host?: string): Promise<HostPort>;
  /** The address bound, or null before `listen()`. */
  address(): HostPort | null;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, closes every connection, and resolves once the server is closed. */
  close(): Promise<void>;
  /** For `await using server = createAnetServer(…)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

const NOT_READING = "the answers could not be queued: the client is not reading";

interface ServerSettings {
  tls: ReturnType<typeof resolveServerTls> | null;
  handshakeTimeout: number;
  handler: AnetHandler;
  codec: { lengthSize: AnetLengthSize; maxBodyBytes: number | undefined };
  /** One for every connection: the codec's format. */
  format: AnetFrames;
  maxInflightPerConn: number;
  writeTimeout: number;
  logger: Logger;
}

/**
 * The server side of anet, for services written in Node, tests and demos. Each request is answered
 * as soon as its handler resolves, so answers leave out of order when handlers take different
 * times; the client matches them by task id. A handler that throws, a response too large for the
 * length prefix, or bytes that break the framing close that connection (the client's requests on
 * it fail with CONNECTION_LOST at once, rather than timing out): anet has no error frame, so
 * answer application errors in the body.
 */
export function createAnetServer(handler: AnetHandler, options: AnetServerOptions = {}): AnetServer {
  const maxInflightPerConn = numberOption(`createAnetServer option "maxInflightPerConn"`, options.maxInflightPerConn, DEFAULT_MAX_INFLIGHT_PER_CONN, { min: 1 });
  const codec = resolveAnetCodec(options, "createAnetServer");
  return new AnetServerImpl({
    tls: options.tls === undefined ? null : resolveServerTls(options.tls, "createAnetServer option tls"),
    handshakeTimeout: ms("handshakeTimeout", options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, "createAnetServer"),
    handler,
    codec,
    format: new AnetFrames(codec),
    maxInflightPerConn,
    writeTimeout: ms("writeTimeout", options.writeTimeout, DEFAULT_WRITE_TIMEOUT, "createAnetServer"),
    logger: options.logger ?? silentLogger,
  });
}

class AnetServerImpl implements AnetServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(settings: ServerSettings) {
    const serve = (socket: Socket) => {
      const { problem } = peerIdentity(socket);
      if (problem !== null) {
        settings.logger.warn({ remote: socket.remoteAddress, problem }, "anet client refused");
        socket.destroy();
        return;
      }
      new ServerConnection(socket, settings);
    };
    const { tls } = settings;
    if (tls === null) {
      this.#server = createServer({ noDelay: true }, serve);
    } else {
      const { context, requestCert, rejectUnauthorized } = tls;
      const server = createTlsServer({ ...context, requestCert, rejectUnauthorized, handshakeTimeout: settings.handshakeTimeout, noDelay: true }, serve);
      server.on("tlsClientError", (error, socket) => {
        settings.logger.warn({ remote: socket.remoteAddress, error: error.message }, "anet TLS handshake failed");
      });
      this.#server = server;
    }
    // Every accepted TCP socket, TLS handshakes under way included: close() ends them all
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  get connections(): number {
    return this.#sockets.size;
  }

  listen(port = 0, host = "127.0.0.1"): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve(this.address()!);
      });
    });
  }

  address(): HostPort | null {
    const address = this.#server.address();
    return address === null || typeof address === "string" ? null : { host: address.address, port: address.port };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        for (const socket of this.#sockets) socket.destroy();
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }
}

/**
 * One client connection: a FramedConnection speaking anet frames (AnetFrames) that runs up to
 * `maxInflightPerConn` handlers at once, queues the rest (pausing reads while they wait), and writes the
 * answers of each tick as one batch.
 */
class ServerConnection {
  readonly #settings: ServerSettings;
  readonly #connection: FramedConnection<AnetFrame>;
  readonly #maxBody: number;
  readonly #remoteAddress: string;
  readonly #backlog: AnetFrame[] = [];
  #backlogHead = 0;
  #running = 0;
  #paused = false;
  #closed = false;
  readonly #onHandlerError = (error: unknown): void => this.#fail(error);

  constructor(socket: Socket, settings: ServerSettings) {
    this.#settings = settings;
    this.#remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#maxBody = maxAnetBody(settings.codec);
    // The writer's own limits bound answers a client leaves unread; its writeTimeout closes such a client.
    this.#connection = new FramedConnection(
      socket,
      settings.format,
      {
        onFrames: (frames) => this.#onFrames(frames),
        onViolation: (error) => this.#fail(error),
        onClose: (error) => {
          // A client that stopped reading (SlowPeerError) is reported; one that left is not.
          if (error instanceof SlowPeerError) this.#fail(error);
          this.#closed = true;
        },
      },
      { writeTimeout: settings.writeTimeout, readTimeout: 0 },
    );
  }

  #onFrames(frames: AnetFrame[]): void {
    for (const frame of frames) {
      if (this.#running < this.#settings.maxInflightPerConn) this.#run(frame);
      else this.#backlog.push(frame);
    }
    if (!this.#paused && this.#backlog.length - this.#backlogHead >= this.#settings.maxInflightPerConn) {
      this.#paused = true;
      this.#connection.pauseReads();
    }
  }

  #run(frame: AnetFrame): void {
    this.#running++;
    const taskId = frame.taskId;
    let answer: ReturnType<AnetHandler>;
    try {
      answer = this.#settings.handler(frame.body, { taskId, remoteAddress: this.#remoteAddress });
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (typeof answer === "string" || answer instanceof Uint8Array) this.#respond(taskId, answer);
    // One closure per request (it carries the task id); the rejection handler is the connection's own.
    else answer.then((body) => this.#respond(taskId, body), this.#onHandlerError);
  }

  #respond(taskId: number, body: Uint8Array | string): void {
    this.#running--;
    if (this.#closed) return;
    try {
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      refuseOversizedAnetBody(bytes.length, this.#maxBody, this.#settings.codec.lengthSize);
      if (!this.#settings.format.write(this.#connection.writer, taskId, bytes)) throw new Error(NOT_READING);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#next();
  }

  /** Starts the oldest waiting request, and resumes reading once the backlog has room. */
  #next(): void {
    if (this.#backlogHead < this.#backlog.length) {
      const frame = this.#backlog[this.#backlogHead]!;
      this.#backlog[this.#backlogHead++] = undefined as unknown as AnetFrame;
      if (this.#backlogHead === this.#backlog.length) this.#backlog.length = this.#backlogHead = 0;
      this.#run(frame);
    }
    if (this.#paused && this.#backlog.length - this.#backlogHead < this.#settings.maxInflightPerConn) {
      this.#paused = false;
      this.#connection.resumeReads();
    }
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    const message = error instanceof Error ? error.message : String(error);
    this.#settings.logger.warn({ client: this.#remoteAddress, reason: message }, `anet server: closing the connection from ${this.#remoteAddress}: ${message}`);
    this.#connection.destroy();
  }
}
