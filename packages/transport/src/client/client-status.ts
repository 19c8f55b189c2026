import { EventFeed } from "./event-feed.js";

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
 * The client's status events, its closed() promise and the counters of stats() that belong to
 * the connection rather than to a role. Readers are bounded (EVENT_BUFFER); none is kept after
 * the client closes.
 */
export class StatusFeed {
  readonly #events = new EventFeed<ClientStatus>();
  readonly #closed: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
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
    return this.#events.iterator();
  }

  /** Resolves once the client is closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  publish(event: ClientStatus): void {
    this.#events.publish(event);
    if (event.type !== "closed") return;
    this.#events.end();
    this.#resolveClosed(event.error);
  }
}
