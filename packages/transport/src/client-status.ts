/** What a client reports through `status()`, in the order it happens (nats.js's status() is the model). */
export type ClientStatus =
  /** Registered with a broker (first connect or a reconnect). */
  | { type: "connected"; server: string; serverId: string | undefined; reconnect: boolean }
  /** The connection was lost; what was in flight on it has failed with DISCONNECTED. */
  | { type: "disconnected"; server: string; error: Error }
  /** A reconnect attempt starts after `delayMs` of backoff (1 = the first attempt). */
  | { type: "reconnecting"; server: string; attempt: number; delayMs: number }
  /** Closed for good: by close() (no error) or because it gave up or was taken over (the error). */
  | { type: "closed"; error: Error | undefined };

/** Most status events one iterator keeps unread; older ones are dropped (and counted) beyond it. */
export const STATUS_BUFFER = 64;

/** What `stats()` of a client gives: a plain snapshot. */
export interface ClientTransportStats {
  /** Where the client is in its lifecycle. */
  state: string;
  /** The broker id from the last registration ack; undefined before the first. */
  serverId: string | undefined;
  /** Successful reconnects since start. */
  reconnects: number;
  /** Bytes received from and sent to brokers since start, all connections together. */
  bytesReceived: number;
  bytesSent: number;
}

/**
 * One reader's view of the status events: a bounded queue. A reader that falls behind loses the
 * oldest events, never the newest (the last one says where the client is now), and `dropped`
 * counts what it lost.
 */
class StatusIterator implements AsyncIterableIterator<ClientStatus> {
  readonly #events: ClientStatus[] = [];
  #waiter: ((result: IteratorResult<ClientStatus>) => void) | null = null;
  #ended = false;
  readonly #leave: (iterator: StatusIterator) => void;
  /** Events dropped because this reader was STATUS_BUFFER behind. */
  dropped = 0;

  constructor(leave: (iterator: StatusIterator) => void) {
    this.#leave = leave;
  }

  push(event: ClientStatus): void {
    if (this.#ended) return;
    if (this.#waiter !== null) {
      const wake = this.#waiter;
      this.#waiter = null;
      wake({ done: false, value: event });
      return;
    }
    if (this.#events.length >= STATUS_BUFFER) {
      this.#events.shift();
      this.dropped++;
    }
    this.#events.push(event);
  }

  end(): void {
    this.#ended = true;
    const wake = this.#waiter;
    this.#waiter = null;
    wake?.({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<ClientStatus>> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<ClientStatus>> {
    this.#events.length = 0;
    this.end();
    this.#leave(this);
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ClientStatus> {
    return this;
  }
}

/**
 * The client's status events, its closed() promise and the counters of stats() that belong to
 * the connection rather than to a role. Readers are bounded (STATUS_BUFFER); none is kept after
 * the client closes.
 */
export class StatusFeed {
  readonly #readers = new Set<StatusIterator>();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
  #ended = false;
  reconnects = 0;
  /** Bytes of connections that have ended. */
  bytesReceived = 0;
  bytesSent = 0;

  constructor() {
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** A new reader of every event from now on; ends after "closed". */
  iterator(): AsyncIterableIterator<ClientStatus> {
    const reader = new StatusIterator((left) => this.#readers.delete(left));
    if (this.#ended) reader.end();
    else this.#readers.add(reader);
    return reader;
  }

  /** Resolves once the client is closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  publish(event: ClientStatus): void {
    if (this.#ended) return;
    for (const reader of this.#readers) reader.push(event);
    if (event.type !== "closed") return;
    this.#ended = true;
    for (const reader of this.#readers) reader.end();
    this.#readers.clear();
    this.#resolveClosed(event.error);
  }
}
