import type { Dealer } from "zeromq";

interface Pending {
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

/**
 * A pipelined ZeroMQ client: one DEALER socket to a proxy frontend, each request sent as
 * `[id, body]` and matched to its reply by id. zeromq.js allows one `send` in progress per socket,
 * so sends go through a small queue.
 */
export class ZmqClient {
  readonly #socket: Dealer;
  readonly #pending = new Map<number, Pending>();
  readonly #outbox: Buffer[][] = [];
  #pumping = false;
  #nextId = 0;
  #closedError: Error | undefined;

  constructor(socket: Dealer) {
    this.#socket = socket;
    void this.#receive();
  }

  /** Connects a DEALER socket to `endpoint` (e.g. `tcp://127.0.0.1:5555`). */
  static async connect(endpoint: string): Promise<ZmqClient> {
    const zmq = await import("zeromq");
    const socket = new zmq.Dealer({ linger: 0 });
    socket.connect(endpoint);
    return new ZmqClient(socket);
  }

  /** Sends one request; resolves with the worker's reply body. */
  send(body: Buffer): Promise<Buffer> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const id = this.#nextId++ >>> 0;
    const idFrame = Buffer.allocUnsafe(4);
    idFrame.writeUInt32BE(id, 0);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push([idFrame, body]);
      void this.#pump();
    });
  }

  /** Closes the socket; requests still pending are rejected. */
  close(): Promise<void> {
    this.#fail(new Error("zeromq client closed"));
    this.#socket.close();
    return Promise.resolve();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let next = this.#outbox.shift(); next !== undefined; next = this.#outbox.shift()) await this.#socket.send(next);
    } catch (err) {
      this.#fail(err as Error);
    } finally {
      this.#pumping = false;
    }
  }

  async #receive(): Promise<void> {
    try {
      for await (const [idFrame, body] of this.#socket) {
        const id = idFrame!.readUInt32BE(0);
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        pending?.resolve(body!);
      }
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  #fail(err: Error): void {
    this.#closedError ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}
