import type { Socket } from "node:net";
import type { Pool } from "@switchyard/transport";
import { backoffDelay } from "@switchyard/transport/internal";

/**
 * The broker's view of one pool (one address): how many of its connections the broker holds,
 * whether a dial is under way, and until when the address is skipped after a failed dial.
 * Backoff doubles from `initial` up to `max` (with jitter, so brokers that lost the same address
 * do not return together) while dials keep failing, and resets on success.
 */
export class PoolSlot {
  readonly pool: Pool<Socket>;
  /** Most connections the broker holds from this pool: min(workers, pool cap). */
  readonly limit: number;
  /** Connections borrowed from the pool and open. */
  connections = 0;
  dialing = false;
  /** The error of the last failed dial, for NO_POOLS_AVAILABLE's cause. */
  lastError: unknown = undefined;
  readonly #initial: number;
  readonly #max: number;
  #failures = 0;
  #retryAt = 0;

  constructor(pool: Pool<Socket>, workers: number, backoffInitial: number, backoffMax: number) {
    this.pool = pool;
    this.limit = Math.min(workers, pool.cap);
    this.#initial = backoffInitial;
    this.#max = backoffMax;
  }

  /** The address the pool dials, for messages. */
  get address(): string {
    return this.pool.name;
  }

  /** True when another connection may be dialled now (`now` from performance.now()). */
  canDial(now: number): boolean {
    return !this.dialing && this.connections < this.limit && now >= this.#retryAt;
  }

  /** Records a failed dial; returns how many ms the address is now skipped. */
  dialFailed(error: unknown, now: number): number {
    const wait = backoffDelay(this.#failures++, this.#initial, this.#max);
    this.lastError = error;
    this.#retryAt = now + wait;
    return wait;
  }

  /** Records a successful dial: the address is healthy again. */
  dialSucceeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
  }
}
