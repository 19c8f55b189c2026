import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ListenError } from "../errors.js";
import type { BrokerLogger } from "../logger.js";
import type { BrokerView } from "./broker-view.js";
import { BrokerMetrics } from "./broker-metrics.js";
import type { ResolvedMonitorOptions } from "./monitor-options.js";
import { channelsView, connectionsView, statusView } from "./monitor-views.js";
import { BadQueryError } from "./query.js";

/** Ms a monitor client has to send its request headers; then its socket is closed. */
export const MONITOR_HEADERS_TIMEOUT_MS = 5000;
/** Ms a monitor socket may sit with nothing moving before it is closed. */
export const MONITOR_SOCKET_TIMEOUT_MS = 10_000;
/** Most monitor sockets at once: probes and scrapers need few; more are refused. */
export const MONITOR_MAX_CONNECTIONS = 64;

/** One endpoint: whether it needs the token, and what it answers. */
interface Endpoint {
  auth: boolean;
  answer(params: URLSearchParams): Promise<Answer> | Answer;
}

/** A response body with its status and type. */
export interface Answer {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const JSON_TYPE = "application/json; charset=utf-8";

function json(status: number, value: unknown): Answer {
  return { status, type: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` };
}

function problem(status: number, error: string, message: string, headers?: Record<string, string>): Answer {
  return { ...json(status, { error, message }), ...(headers === undefined ? {} : { headers }) };
}

/** Extra static files served beside the JSON endpoints (the status page). */
export type StaticFiles = ReadonlyMap<string, Answer>;

/**
 * The broker's monitoring HTTP listener. Every answer is built when asked from what the broker
 * already counts; the listener is bounded so that a slow or hostile client cannot cost routing:
 * header and idle timeouts, a connection cap, small headers, GET only, and pages of at most 1000
 * entries. Answers: 404 for an unknown path, 405 for another method, 401 for a missing or wrong
 * token, 400 for a bad query parameter, 500 (logged) if building an answer throws.
 */
export class MonitorServer {
  readonly #options: ResolvedMonitorOptions;
  readonly #broker: BrokerView;
  readonly #logger: BrokerLogger;
  readonly #server: Server;
  readonly #metrics: BrokerMetrics;
  readonly #token: Buffer | null;
  readonly #endpoints: Map<string, Endpoint>;

  constructor(options: ResolvedMonitorOptions, broker: BrokerView, logger: BrokerLogger, staticFiles: StaticFiles = new Map()) {
    this.#options = options;
    this.#broker = broker;
    this.#logger = logger;
    this.#token = options.token === null ? null : Buffer.from(options.token, "utf8");
    this.#metrics = new BrokerMetrics(broker, options.perChannelMetrics);
    const ready = () => broker.state === "listening";
    this.#endpoints = new Map<string, Endpoint>([
      ["/livez", { auth: false, answer: () => json(200, { status: "ok" }) }],
      [
        "/readyz",
        {
          auth: false,
          answer: () => (ready() ? json(200, { status: "ready" }) : json(503, { status: broker.state === "stopping" ? "draining" : "not listening", state: broker.state })),
        },
      ],
      ["/metrics", { auth: true, answer: async () => ({ status: 200, type: this.#metrics.contentType, body: await this.#metrics.render() }) }],
      ["/status", { auth: true, answer: (params) => json(200, statusView(this.#broker, params)) }],
      ["/connections", { auth: true, answer: (params) => json(200, connectionsView(this.#broker, params)) }],
      ["/channels", { auth: true, answer: (params) => json(200, channelsView(this.#broker, params)) }],
      ...[...staticFiles].map(([path, file]): [string, Endpoint] => [path, { auth: false, answer: () => file }]),
    ]);
    this.#server = createServer(
      {
        maxHeaderSize: 8192,
        headersTimeout: MONITOR_HEADERS_TIMEOUT_MS,
        requestTimeout: MONITOR_SOCKET_TIMEOUT_MS,
        keepAliveTimeout: MONITOR_HEADERS_TIMEOUT_MS,
        // how often Node checks the two timeouts above (default 30 s)
        connectionsCheckingInterval: 1000,
      },
      (request, response) => void this.#handle(request, response),
    );
    this.#server.maxConnections = MONITOR_MAX_CONNECTIONS;
    this.#server.setTimeout(MONITOR_SOCKET_TIMEOUT_MS, (socket) => socket.destroy());
    this.#server.on("error", (error) => logger.error({ err: error }, "monitor server error"));
  }

  /** Listens; rejects with ListenError (cause: Node's error). */
  listen(): Promise<void> {
    const { host, port } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new ListenError(`cannot listen for monitoring on ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error }));
      this.#server.once("error", onError);
      this.#server.listen({ port, host }, () => {
        this.#server.off("error", onError);
        resolve();
      });
    });
  }

  /** Where it listens, or null when it does not. */
  address(): { host: string; port: number } | null {
    const address = this.#server.address();
    return address === null || typeof address === "string" ? null : { host: address.address, port: address.port };
  }

  /** Stops listening and closes every monitor connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    request.resume(); // a body on a GET is read and dropped, never buffered
    let answer: Answer;
    try {
      answer = await this.#answer(request);
    } catch (error) {
      if (error instanceof BadQueryError) answer = problem(400, error.code, error.message);
      else {
        this.#logger.error({ err: error, url: request.url }, "monitor endpoint failed");
        answer = problem(500, "INTERNAL", "the monitor could not build this answer; see the broker's log");
      }
    }
    if (response.destroyed) return;
    response.writeHead(answer.status, {
      "content-type": answer.type,
      "content-length": Buffer.byteLength(answer.body),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...answer.headers,
    });
    response.end(answer.body);
  }

  async #answer(request: IncomingMessage): Promise<Answer> {
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://monitor.invalid");
    } catch {
      return problem(400, "BAD_URL", "the request target is not a valid path");
    }
    const endpoint = this.#endpoints.get(url.pathname);
    if (endpoint === undefined) {
      return problem(404, "NOT_FOUND", `no endpoint ${url.pathname}; the monitor serves ${[...this.#endpoints.keys()].filter((p) => !p.includes(".")).join(", ")}`);
    }
    if (request.method !== "GET") return problem(405, "METHOD_NOT_ALLOWED", `${url.pathname} answers GET only, not ${request.method}`, { allow: "GET" });
    if (endpoint.auth && !this.#authorized(request)) {
      return problem(401, "UNAUTHORIZED", "this endpoint needs Authorization: Bearer <the broker's --monitor-token>", { "www-authenticate": 'Bearer realm="switchyard-broker"' });
    }
    return endpoint.answer(url.searchParams);
  }

  #authorized(request: IncomingMessage): boolean {
    const token = this.#token;
    if (token === null) return true;
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith("Bearer ")) return false;
    const given = Buffer.from(header.slice("Bearer ".length).trim(), "utf8");
    return given.length === token.length && timingSafeEqual(given, token);
  }
}
