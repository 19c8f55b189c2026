import type { Socket } from "node:net";
import { AnetDecoder, type AnetFrame, type AnetLengthSize } from "@switchyard/protocol";
import type { Pool } from "@switchyard/transport";
import { SocketWriter } from "@switchyard/transport/internal";
import type { AnetRequest } from "./anet-request.js";
import { TaskTable } from "./task-table.js";

/** What a connection tells the broker that owns it. */
export interface ConnectionOwner {
  /** Frames decoded from one chunk, in order. */
  onFrames(connection: AnetConnection, frames: AnetFrame[]): void;
  /** The server broke the protocol (bad length, garbage, unknown task id): the owner counts it and destroys the connection. */
  onViolation(connection: AnetConnection, reason: string, cause?: unknown): void;
  /** Called once, when the connection is gone: `reason` for messages, `cause` the underlying error. */
  onClosed(connection: AnetConnection, reason: string, cause: unknown): void;
}

/** Settings a connection takes from the broker's resolved options. */
export interface AnetConnectionSettings {
  lengthSize: AnetLengthSize;
  maxBodyBytes: number | undefined;
  maxInflightPerConn: number;
  stallTimeout: number;
  writeTimeout: number;
}

let nextConnectionId = 1;

/**
 * One pooled socket as the broker uses it: anet frames decoded as they arrive, the requests of
 * each tick written as one batch by its SocketWriter, and the table of task ids in flight on it.
 * `park()` unhooks it while its socket sits idle in the pool; `resume()` hooks it up again when the
 * pool hands the socket back out, so a connection keeps its number for as long as its socket lives.
 *
 * It closes itself (and tells its owner once) when the socket errors or closes, when the server
 * breaks the framing, when the server stops reading for `writeTimeout`, or when nothing arrives for
 * `stallTimeout` while requests are in flight on it.
 */
export class AnetConnection {
  /** Process-unique number, for messages. */
  readonly id = nextConnectionId++;
  readonly socket: Socket;
  /** The pool it was taken from (one per address). */
  readonly pool: Pool<Socket>;
  /** Requests written and not yet answered (abandoned ones included), by task id. */
  readonly inFlight: TaskTable<AnetRequest>;
  readonly #owner: ConnectionOwner;
  readonly #writer: SocketWriter;
  readonly #lengthSize: AnetLengthSize;
  readonly #decoder: AnetDecoder;
  readonly #stallTimeout: number;
  #open = false;
  #socketError: Error | undefined;

  constructor(socket: Socket, pool: Pool<Socket>, owner: ConnectionOwner, settings: AnetConnectionSettings) {
    this.socket = socket;
    this.pool = pool;
    this.#owner = owner;
    this.#stallTimeout = settings.stallTimeout;
    this.inFlight = new TaskTable(settings.maxInflightPerConn);
    const codec = { lengthSize: settings.lengthSize, maxBodyBytes: settings.maxBodyBytes };
    this.#decoder = new AnetDecoder(codec);
    // In-flight requests bound the frames that can wait, so this queue never refuses for count.
    this.#writer = new SocketWriter(socket, { maxWriteQueueFrames: settings.maxInflightPerConn, writeTimeout: settings.writeTimeout }, (error) =>
      this.destroy("the server stopped reading its socket", error),
    );
    this.#lengthSize = settings.lengthSize;
    this.resume();
  }

  /** Hooks the connection up to its socket (again, after `park()`): it reads, times out and closes as described above. */
  resume(): void {
    const socket = this.socket;
    this.#open = true;
    socket.off("data", destroyOnData);
    socket.on("data", this.#onData);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    if (this.#stallTimeout > 0) {
      socket.setTimeout(this.#stallTimeout);
      socket.on("timeout", this.#onTimeout);
    }
  }

  /**
   * Unhooks the connection from its socket, which nothing is in flight on, and returns the socket
   * for its pool to keep idle. A byte that arrives there is one nobody asked for, so it destroys the
   * socket (the pool's validation then turns it away), and an error is ignored rather than crash
   * the process. Call it only with nothing in flight.
   */
  park(): Socket {
    const socket = this.socket;
    this.#open = false;
    socket.setTimeout(0);
    socket.off("data", this.#onData);
    socket.off("close", this.#onClose);
    socket.off("timeout", this.#onTimeout);
    socket.off("error", this.#onError);
    socket.on("data", destroyOnData);
    if (socket.listenerCount("error") === 0) socket.on("error", ignoreError);
    return socket;
  }

  /** The pool's address, for messages. */
  get address(): string {
    return this.pool.name;
  }

  /** False once closed. */
  get open(): boolean {
    return this.#open;
  }

  /** Task ids taken on this connection (requests in flight, abandoned ones included). */
  get load(): number {
    return this.inFlight.size;
  }

  /** Queues the frame `taskId, body` for this tick's write; false when refused (closed, or the writer over its byte limit). */
  write(taskId: number, body: Uint8Array): boolean {
    return this.#open && this.#writer.writeAnetFrame(taskId, body, this.#lengthSize);
  }

  /** Closes the socket now and tells the owner. Idempotent. */
  destroy(reason: string, cause?: unknown): void {
    if (!this.#open) return;
    this.#open = false;
    this.#writer.close();
    this.socket.setTimeout(0);
    this.socket.destroy();
    this.#owner.onClosed(this, reason, cause);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (!this.#open) return;
    let frames: AnetFrame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#owner.onViolation(this, `it sent bytes that break the anet framing: ${(error as Error).message}`, error);
      return;
    }
    if (frames.length > 0) this.#owner.onFrames(this, frames);
  };

  readonly #onError = (error: Error): void => {
    this.#socketError ??= error;
  };

  readonly #onClose = (): void => {
    const error = this.#socketError as NodeJS.ErrnoException | undefined;
    this.destroy(error === undefined ? "the server closed the connection" : `socket error ${error.code ?? error.message}`, error);
  };

  readonly #onTimeout = (): void => {
    if (this.inFlight.size === 0) return;
    this.destroy(`nothing received for ${this.#stallTimeout} ms with ${this.inFlight.size} requests in flight`);
  };
}

/** The 'data' listener of an idle pooled socket: the server sent something nobody asked for. */
function destroyOnData(this: Socket): void {
  this.destroy();
}

function ignoreError(): void {
  // An idle pooled socket's error shows in its state; the pool's validation turns it away.
}
