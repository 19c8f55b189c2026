import { createServer, type Server, type Socket } from "node:net";
import { closeCheckingLeaks, LEAK_GRACE_MS, type LeakCheckable } from "./leak-check.js";

/** Where and how a TrackedServer listens. */
export interface TrackedServerOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Names it in a leak's failure message. Default "server". */
  name?: string;
}

/**
 * A TCP server for tests that knows every connection it accepted and still holds: `stop()` fails
 * with ConnectionLeakError when the test left one open; `crash()` drops them all as a dying
 * process would. The fixtures that play a peer (FakeBroker, FrozenBroker, raw anet servers) stand
 * on it.
 */
export class TrackedServer implements LeakCheckable {
  readonly name: string;
  readonly #server: Server;
  /** Open accepted sockets, each with a promise of its "close" event. */
  readonly #open = new Map<Socket, Promise<void>>();
  readonly #accepted: Socket[] = [];
  #port = 0;
  #host: string;

  private constructor(server: Server, host: string, name: string) {
    this.#server = server;
    this.#host = host;
    this.name = name;
  }

  /** Listens and hands each accepted socket to `onConnection`; resolves once listening. */
  static async listen(onConnection: (socket: Socket) => void, options: TrackedServerOptions = {}): Promise<TrackedServer> {
    const host = options.host ?? "127.0.0.1";
    let tracked!: TrackedServer;
    const server = createServer((socket) => {
      tracked.#accepted.push(socket);
      tracked.#open.set(socket, new Promise((resolve) => socket.once("close", () => {
        tracked.#open.delete(socket);
        resolve();
      })));
      // A peer that resets must not crash the test process; fixtures listen for what they need.
      socket.on("error", () => {});
      onConnection(socket);
    });
    tracked = new TrackedServer(server, host, options.name ?? "server");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    tracked.#port = (server.address() as { port: number }).port;
    return tracked;
  }

  get port(): number {
    return this.#port;
  }

  /** "host:port". */
  get address(): string {
    return `${this.#host}:${this.#port}`;
  }

  /** Every socket accepted so far, in order (closed ones included). */
  get accepted(): readonly Socket[] {
    return this.#accepted;
  }

  openConnections(): number {
    return this.#open.size;
  }

  describeOpen(): string[] {
    return [...this.#open.keys()].map((socket) => `from ${socket.remoteAddress}:${socket.remotePort}`);
  }

  /** Destroys every open connection and stops listening, checking nothing: a crash. Idempotent. */
  async crash(): Promise<void> {
    await this.close();
  }

  /** Stops listening and destroys what is still open, checking nothing (LeakCheckable's close). */
  async close(): Promise<void> {
    // Stop accepting first, so no connection slips in after the sweep; resolve once every
    // accepted socket has emitted "close" (openConnections() is 0 then).
    const closing = this.#server.listening ? new Promise<void>((resolve) => this.#server.close(() => resolve())) : Promise.resolve();
    const closed = [...this.#open.values()];
    for (const socket of this.#open.keys()) socket.destroy();
    await Promise.all([closing, ...closed]);
  }

  /**
   * The end of a test: waits up to `graceMs` for the clients' connections to close, then closes;
   * rejects with ConnectionLeakError naming those still open.
   */
  stop(graceMs = LEAK_GRACE_MS): Promise<void> {
    return closeCheckingLeaks(this, graceMs);
  }
}
