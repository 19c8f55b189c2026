import { type DeadlineEntry, DeadlineQueue } from "./deadline-queue.js";
import { type KeyIndex, MapIndex } from "./key-index.js";

/**
 * What a RequestTable holds: each item carries the handle of its own deadline, so the table needs
 * no wrapper object per entry.
 */
export interface TableItem {
  /** The item's entry in the table's deadline queue, while it has one. Only the table writes it. */
  deadline: DeadlineEntry<unknown> | null;
}

/** How a RequestTable finds its items, and what it does when their deadlines pass. */
export interface RequestTableOptions<K, T> {
  /** Finds items by key. Default: a MapIndex. */
  index?: KeyIndex<K, T>;
  /**
   * Runs when an entry's deadline passes; it should settle and delete the item. Needed only by a
   * table whose entries are given deadlines.
   */
  onExpire?: (item: T) => void;
}

/**
 * Requests in flight, by key (a slot of the consumer's RequestIds, a requestId in an IdIndex, or
 * anything a Map keys well), each with an optional deadline on one shared timer (DeadlineQueue). `delete` is the settle-once guard: it
 * answers true only for the call that actually removed the entry, so whoever settles a request
 * first — response, error, timeout, abort, disconnect — is the only one who does.
 *
 *   add(key, item, timeout) ─► index + DeadlineQueue ─► delete(key, item) → true once
 *                                     └─ deadline passes ─► onExpire(item) (which then deletes)
 */
export class RequestTable<K, T extends TableItem> {
  readonly #items: KeyIndex<K, T>;
  readonly #deadlines: DeadlineQueue<T> | null;
  #emptyWaiters: Array<() => void> = [];

  constructor(options: RequestTableOptions<K, T> = {}) {
    const { index = new MapIndex<K, T>(), onExpire } = options;
    this.#items = index;
    this.#deadlines =
      onExpire === undefined
        ? null
        : new DeadlineQueue((item) => {
            item.deadline = null;
            onExpire(item);
          });
  }

  /** Entries in flight. */
  get size(): number {
    return this.#items.size;
  }

  /**
   * Adds an entry, expiring `timeoutMs` from now (none when 0); false if the key is taken. A
   * deadline needs a table made with `onExpire` (a programming error otherwise: it throws).
   */
  add(key: K, item: T, timeoutMs = 0): boolean {
    if (timeoutMs > 0 && this.#deadlines === null) throw new Error("this RequestTable has no onExpire, so its entries take no deadline");
    if (!this.#items.add(key, item)) return false;
    item.deadline = timeoutMs > 0 ? this.#deadlines!.add(item, timeoutMs) : null;
    return true;
  }

  /** The item in flight under `key`, if any. */
  get(key: K): T | undefined {
    return this.#items.get(key);
  }

  /** Removes the entry (only if it is `item`, when given) and its deadline; true if this call removed it. */
  delete(key: K, item?: T): boolean {
    const found = this.#items.remove(key, item);
    if (found === undefined) return false;
    if (found.deadline !== null) {
      this.#deadlines!.delete(found.deadline as DeadlineEntry<T>);
      found.deadline = null;
    }
    if (this.#items.size === 0 && this.#emptyWaiters.length > 0) this.#wakeEmptyWaiters();
    return true;
  }

  /** A snapshot of the items, safe to settle while iterating. */
  values(): T[] {
    return Array.from(this.#items.values());
  }

  /** Resolves once the table is empty (at once if it is). */
  whenEmpty(): Promise<void> {
    if (this.#items.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  #wakeEmptyWaiters(): void {
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const wake of waiters) wake();
  }
}
