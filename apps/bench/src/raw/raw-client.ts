import net from "node:net";
import { LengthPrefixedDecoder, writeLengthPrefixed } from "./length-prefixed.js";

interface Pending {
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

/**
 * A pipelined client for the raw echo and relay peers: length-prefixed messages on one TCP
 * connection. Both peers answer in order, so a FIFO of waiters is all the correlation needed.
 * Writes made in one tick leave in one corked `writev`, as the Switchyard clients batch theirs.
 */
export class RawClient {
  readonly #socket: net.Socket;
  readonly #decoder = new LengthPrefixedDecoder();
  readonly #waiting: Pending[] = [];
  #corked = false;
  #closedError: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#decoder.push(chunk, (body) => this.#waiting.shift()?.resolve(body)));
    socket.on("error", (err) => this.#fail(err));
    socket.on("close", () => this.#fail(new Error("raw connection closed")));
  }

  /** Connects to a raw peer on `host:port`. */
  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Sends one message; resolves with the reply. */
  send(body: Uint8Array): Promise<Buffer> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#corked) {
        this.#corked = true;
        this.#socket.cork();
        process.nextTick(() => {
          this.#corked = false;
          this.#socket.uncork();
        });
      }
      writeLengthPrefixed(this.#socket, body);
    });
  }

  /** Closes the connection; waiters still pending are rejected. */
  close(): Promise<void> {
    this.#fail(new Error("raw client closed"));
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  #fail(err: Error): void {
    this.#closedError ??= err;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
  }
}
