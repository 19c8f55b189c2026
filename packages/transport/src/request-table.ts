import { type DeadlineEntry, DeadlineQueue } from "./deadline-queue.js";

interface Entry<T> {
  item: T;
  deadline: DeadlineEntry<string> | null;
}

/** The Map key of a 16-byte requestId: one char per byte (latin1), cheap to build and compare. */
export function requestKey(requestId: Uint8Array): string {
  return Buffer.from(requestId.buffer, requestId.byteOffset, requestId.byteLength).toString("latin1");
}

/**
 * Requests in flight, by requestId, each with an optional deadline on one shared timer
 * (DeadlineQueue). `delete` is the settle-once guard: it answers true only for the call that
 * actually removed the entry, so whoever settles a request first — response, error, timeout,
 * abort, disconnect — is the only one who does.
 *
 *   add(key, item, timeout) ─► Map + DeadlineQueue ─► delete(key, item) → true once
 *                                     └─ deadline passes ─► onExpire(item) (which then deletes)
 */
export class RequestTable<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #deadlines: DeadlineQueue<string>;
  #emptyWaiters: Array<() => void> = [];

  /** `onExpire(item)` runs when an entry's deadline passes; it should settle and delete the item. */
  constructor(onExpire: (item: T) => void) {
    this.#deadlines = new DeadlineQueue((key) => {
      const entry = this.#entries.get(key);
      if (entry !== undefined) {
        entry.deadline = null;
        onExpire(entry.item);
      }
    });
  }

  /** Entries in flight. */
  get size(): number {
    return this.#entries.size;
  }

  /** Adds an entry, expiring `timeoutMs` from now (none when 0); false if the key is taken. */
  add(key: string, item: T, timeoutMs = 0): boolean {
    if (this.#entries.has(key)) return false;
    this.#entries.set(key, { item, deadline: timeoutMs > 0 ? this.#deadlines.add(key, timeoutMs) : null });
    return true;
  }

  /** The item in flight under `key`, if any. */
  get(key: string): T | undefined {
    return this.#entries.get(key)?.item;
  }

  /** Removes the entry (only if it is `item`, when given) and its deadline; true if this call removed it. */
  delete(key: string, item?: T): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || (item !== undefined && entry.item !== item)) return false;
    this.#entries.delete(key);
    if (entry.deadline !== null) this.#deadlines.delete(entry.deadline);
    if (this.#entries.size === 0) this.#wakeEmptyWaiters();
    return true;
  }

  /** A snapshot of the items, safe to settle while iterating. */
  values(): T[] {
    return Array.from(this.#entries.values(), (entry) => entry.item);
  }

  /** Resolves once the table is empty (at once if it is). */
  whenEmpty(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  #wakeEmptyWaiters(): void {
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const wake of waiters) wake();
  }
}
