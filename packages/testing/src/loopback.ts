// Loopback socket pairs and a polling wait, for tests of code that reads and writes one socket.
import { connect, createServer, type OnReadOpts, type Server, type Socket } from "node:net";

/** Loopback socket pairs for tests; `closeAll()` (in afterEach) destroys every one opened. */
export class Loopback {
  readonly #sockets = new Set<Socket>();
  readonly #servers = new Set<Server>();

  /** A connected pair: `client` dialled `server`'s listener on 127.0.0.1, port 0 (reading through `onread` when given). */
  async pair(onread?: OnReadOpts): Promise<{ client: Socket; server: Socket }> {
    const listener = createServer();
    this.#servers.add(listener);
    const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const { port } = listener.address() as { port: number };
    const client = connect({ port, host: "127.0.0.1", ...(onread === undefined ? {} : { onread }) });
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("error", reject);
    });
    const server = await accepted;
    this.#sockets.add(client);
    this.#sockets.add(server);
    return { client, server };
  }

  async closeAll(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await Promise.all([...this.#servers].map((server) => new Promise((resolve) => server.close(resolve))));
    this.#servers.clear();
  }
}

/** Collects everything `socket` receives. */
export function received(socket: Socket): { bytes(): Buffer; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { chunks, bytes: () => Buffer.concat(chunks) };
}

/** Resolves once `check()` is true, polling every few ms (fails the test after `ms`). */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
