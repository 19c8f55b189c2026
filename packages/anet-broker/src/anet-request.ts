import type { DeadlineEntry } from "@switchyard/transport/internal";
import type { AnetConnection } from "./anet-connection.js";

/**
 * Where an anet request is (named as broker-server's RequestState). ABANDONED: its caller was
 * answered (timeout, abort) while the server may still be working on it, so its task id and its
 * connection slot stay taken until the late response arrives and is discarded.
 */
export const AnetRequestState = { QUEUED: 0, IN_FLIGHT: 1, ABANDONED: 2, SETTLED: 3 } as const;
export type AnetRequestState = (typeof AnetRequestState)[keyof typeof AnetRequestState];

/** The broker's side of a request: told when the caller's signal aborts. */
export interface RequestOwner {
  onAbort(request: AnetRequest): void;
}

/**
 * One `send()`: a table row, not a bundle of closures and timers. It is its own abort listener
 * (`handleEvent`), its deadline is an entry of the broker's one DeadlineQueue, and
 * `queuePrev`/`queueNext` link it into the broker's queue while it waits for a connection.
 */
export class AnetRequest {
  state: AnetRequestState = AnetRequestState.QUEUED;
  /** The body, until it is handed to a connection (encoded with its task id when that tick's batch is written). */
  body: Uint8Array | null;
  /** Ms the caller waits for the response; 0 forever. */
  readonly timeout: number;
  resolve: ((body: Buffer) => void) | null;
  reject: ((error: unknown) => void) | null;
  signal: AbortSignal | null;
  deadline: DeadlineEntry<AnetRequest> | null = null;
  taskId = 0;
  connection: AnetConnection | null = null;
  queuePrev: AnetRequest | null = null;
  queueNext: AnetRequest | null = null;
  readonly #owner: RequestOwner;

  constructor(
    owner: RequestOwner,
    body: Uint8Array,
    timeout: number,
    resolve: (body: Buffer) => void,
    reject: (error: unknown) => void,
    signal: AbortSignal | null,
  ) {
    this.#owner = owner;
    this.body = body;
    this.timeout = timeout;
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
  }

  /** The 'abort' listener of the caller's signal (EventTarget calls listener objects this way). */
  handleEvent(): void {
    this.#owner.onAbort(this);
  }
}
