import { type DeadlineEntry, DeadlineQueue } from "./deadline-queue.js";

/**
 * What a RequestTable holds: each item carries the handle of its own deadline, so the table needs
 * no wrapper object per entry.
 */
export interface TableItem {
  /** The item's entry in the table's deadline queue, while it has one. Only the table writes it. */
  deadline: DeadlineEntry<unknown> | null;
}

/**
 * How a RequestTable finds its items by their 16-byte wire id. Each item carries its own id (its
 * slot and generation, or its id's words), so the index needs no key beside it. Two kinds: the
 * ids we issue (RequestIds, a slot table) and ids others chose (RequestIdTable, a hash table).
 */
export interface RequestIndex<T> {
  /** Items held. */
  readonly size: number;
  /** The item `id` names, or undefined. */
  find(id: Uint8Array): T | undefined;
  /** Holds `item`; false, and nothing changed, when an item with its id is held. */
  add(item: T): boolean;
  /** Lets go of `item`; false if it was not held. */
  delete(item: T): boolean;
  /** Every item: a snapshot, safe to settle while walking it. */
  values(): T[];
}

/** How a RequestTable finds its items, and what it does when their deadlines pass. */
export interface RequestTableOptions<T> {
  /** Finds items by id: RequestIds for ids we issue, RequestIdTable for ids someone else chose. */
  index: RequestIndex<T>;
  /**
   * Runs when an entry's deadline passes; it should settle and delete the item. Needed only by a
   * table whose entries are given deadlines.
   */
  onExpire?: (item: T) => void;
}

/**
 * Requests in flight, by id (through its index), each with an optional deadline on one shared
 * timer (DeadlineQueue). `delete` is the settle-once guard: it answers true only for the call that
 * actually removed the entry, so whoever settles a request first — response, error, timeout,
 * abort, disconnect — is the only one who does.
 *
 *   add(item, timeout) ─► index + DeadlineQueue ─► delete(item) → true once
 *                                     └─ deadline passes ─► onExpire(item) (which then deletes)
 */
export class RequestTable<T extends TableItem> {
  readonly #items: RequestIndex<T>;
  readonly #deadlines: DeadlineQueue<T> | null;
  #emptyWaiters: Array<() => void> = [];

  constructor(options: RequestTableOptions<T>) {
    const { index, onExpire } = options;
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
   * Adds an entry, expiring `timeoutMs` from now (none when 0); false if its id is taken. A
   * deadline needs a table made with `onExpire` (a programming error otherwise: it throws).
   */
  add(item: T, timeoutMs = 0): boolean {
    if (timeoutMs > 0 && this.#deadlines === null) throw new Error("this RequestTable has no onExpire, so its entries take no deadline");
    if (!this.#items.add(item)) return false;
    item.deadline = timeoutMs > 0 ? this.#deadlines!.add(item, timeoutMs) : null;
    return true;
  }

  /** The item in flight under the wire id `id`, if any. */
  get(id: Uint8Array): T | undefined {
    return this.#items.find(id);
  }

  /** Removes `item` and its deadline; true if this call removed it. */
  delete(item: T): boolean {
    if (!this.#items.delete(item)) return false;
    if (item.deadline !== null) {
      this.#deadlines!.delete(item.deadline as DeadlineEntry<T>);
      item.deadline = null;
    }
    if (this.#items.size === 0 && this.#emptyWaiters.length > 0) this.#wakeEmptyWaiters();
    return true;
  }

  /** A snapshot of the items, safe to settle while iterating. */
  values(): T[] {
    return this.#items.values();
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
