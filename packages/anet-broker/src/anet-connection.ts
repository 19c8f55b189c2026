import type { Socket } from "node:net";
import type { AnetFrame, AnetLengthSize } from "@switchyard/protocol";
import { IdleTimeoutError, type Pool, SlowPeerError } from "@switchyard/transport";
import { FramedConnection } from "@switchyard/transport/internal";
import { AnetFrames } from "./anet-frames.js";
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

/**
 * One pooled socket as the broker uses it: a FramedConnection speaking anet frames (AnetFrames) —
 * frames decoded as they arrive, the requests of each tick written as one batch — and the table of
 * task ids in flight on it. `park()` unhooks it from its owner while its socket sits idle in the
 * pool; `resume()` hooks it up again when the pool hands the socket back out, so a connection keeps
 * its number for as long as its socket lives.
 *
 * While hooked up it closes itself (and tells its owner once, at once) when the socket errors or
 * closes, when the server breaks the framing, when the server stops reading for `writeTimeout`, or
 * when nothing arrives for `stallTimeout` while requests are in flight on it.
 */
export class AnetConnection {
  readonly socket: Socket;
  /** The pool it was taken from (one per address). */
  readonly pool: Pool<Socket>;
  /** Requests written and not yet answered (abandoned ones included), by task id. */
  readonly inFlight: TaskTable<AnetRequest>;
  readonly #owner: ConnectionOwner;
  readonly #format: AnetFrames;
  readonly #connection: FramedConnection<AnetFrame>;
  readonly #stallTimeout: number;
  /** Hooked up to its owner: not parked, not closed. */
  #open = true;

  constructor(socket: Socket, pool: Pool<Socket>, owner: ConnectionOwner, settings: AnetConnectionSettings) {
    this.socket = socket;
    this.pool = pool;
    this.#owner = owner;
    this.#stallTimeout = settings.stallTimeout;
    this.inFlight = new TaskTable(settings.maxInflightPerConn);
    this.#format = new AnetFrames(settings);
    this.#connection = new FramedConnection(
      socket,
      this.#format,
      {
        onFrames: (frames) => {
          if (this.#open) owner.onFrames(this, frames);
        },
        onViolation: (error) => {
          if (this.#open) owner.onViolation(this, `it sent bytes that break the anet framing: ${(error as Error).message}`, error);
          else socket.destroy();
        },
        // While parked the pool's validation turns a closed socket away: the owner is not told.
        onClose: (error) => this.destroy(this.#reasonFor(error), error?.cause ?? error),
      },
      {
        // In-flight requests bound the frames that can wait, so this queue never refuses for count.
        maxWriteQueueFrames: settings.maxInflightPerConn,
        writeTimeout: settings.writeTimeout,
        readTimeout: settings.stallTimeout,
        // Parked, nothing is in flight: an idle pooled socket is never closed for its silence.
        awaitingReply: () => this.inFlight.size > 0,
      },
    );
  }

  /** Process-unique number, for messages. */
  get id(): number {
    return this.#connection.id;
  }

  /** Hooks the connection up to its owner again after `park()`: it delivers, times out and closes as described above. */
  resume(): void {
    this.socket.off("data", destroyOnData);
    this.#open = true;
  }

  /**
   * Unhooks the connection from its owner, with nothing in flight on it, and returns the socket for
   * its pool to keep idle. A byte that arrives there is one nobody asked for, so it destroys the
   * socket (the pool's validation then turns it away). Call it only with nothing in flight.
   */
  park(): Socket {
    this.#open = false;
    this.socket.on("data", destroyOnData);
    return this.socket;
  }

  /** The pool's address, for messages. */
  get address(): string {
    return this.pool.name;
  }

  /** False once parked, closed, or closing (a slow or silent server's socket is being destroyed). */
  get open(): boolean {
    return this.#open && this.#connection.state === "open";
  }

  /** Task ids taken on this connection (requests in flight, abandoned ones included). */
  get load(): number {
    return this.inFlight.size;
  }

  /** Queues the frame `taskId, body` for this tick's write; false when refused (parked, closed, or the writer over its byte limit). */
  write(taskId: number, body: Uint8Array): boolean {
    return this.#open && this.#format.write(this.#connection.writer, taskId, body);
  }

  /** Closes the socket now and tells the owner; nothing while parked. Idempotent. */
  destroy(reason: string, cause?: unknown): void {
    if (!this.#open) return;
    this.#open = false;
    this.#connection.destroy();
    this.#owner.onClosed(this, reason, cause);
  }

  /** Why the connection closed, for the requests it fails: from the error it closed with. */
  #reasonFor(error: Error | undefined): string {
    if (error === undefined) return "the server closed the connection";
    if (error instanceof SlowPeerError) return "the server stopped reading its socket";
    if (error instanceof IdleTimeoutError) return `nothing received for ${this.#stallTimeout} ms with ${this.inFlight.size} requests in flight`;
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    return `socket error ${cause?.code ?? cause?.message ?? error.message}`;
  }
}

/** The extra 'data' listener of a parked socket: the server sent something nobody asked for. */
function destroyOnData(this: Socket): void {
  this.destroy();
}
