import { MAX_TIMER_MS } from "./option-checks.js";

/** A handle to an entry of a DeadlineQueue, to cancel it. */
export interface DeadlineEntry<T> {
  readonly item: T;
  /** performance.now() ms at which the entry expires. */
  readonly deadline: number;
}

interface Node<T> extends DeadlineEntry<T> {
  prev: Node<T> | null;
  next: Node<T> | null;
  lane: Lane<T> | null;
}

interface Lane<T> {
  readonly timeout: number;
  head: Node<T> | null;
  tail: Node<T> | null;
}

/**
 * Deadlines for many items (requests in flight) with one timer, whatever their number.
 *
 * Entries are grouped in lanes by timeout value. Within a lane, entries are added in time order, so
 * each lane is a doubly linked list sorted by deadline: adding and cancelling are O(1), and only
 * lane heads compete for the single timer. Services use few distinct timeouts, so this stays cheap
 * at 100 000 entries where a setTimeout each would not.
 *
 *   lane 5000 ms: [d=t+5000] ⇄ [d=t+5003] ⇄ …      ─┐
 *   lane 2000 ms: [d=t+2001] ⇄ …                    ─┴─ timer armed for the earliest head
 */
export class DeadlineQueue<T> {
  readonly #onExpire: (item: T) => void;
  readonly #lanes = new Map<number, Lane<T>>();
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;

  /** `onExpire` is called once for each entry whose deadline passes before it is deleted. */
  constructor(onExpire: (item: T) => void) {
    this.#onExpire = onExpire;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item` to expire `timeoutMs` from now; returns the handle that deletes it. */
  add(item: T, timeoutMs: number): DeadlineEntry<T> {
    let lane = this.#lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = { timeout: timeoutMs, head: null, tail: null };
      this.#lanes.set(timeoutMs, lane);
    }
    const node: Node<T> = { item, deadline: performance.now() + timeoutMs, prev: lane.tail, next: null, lane };
    if (lane.tail === null) lane.head = node;
    else lane.tail.next = node;
    lane.tail = node;
    this.#size++;
    if (node.deadline < this.#timerAt) this.#arm(node.deadline);
    return node;
  }

  /** Removes an entry before it expires; harmless if it already expired or was deleted. */
  delete(entry: DeadlineEntry<T>): void {
    const node = entry as Node<T>;
    const lane = node.lane;
    if (lane === null) return;
    if (node.prev === null) lane.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) lane.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = node.lane = null;
    this.#size--;
    // An empty lane goes at once: with many distinct timeouts (a provider's "time left") lanes
    // would otherwise pile up until the next expiry, and every expiry walks them all.
    if (lane.head === null) this.#lanes.delete(lane.timeout);
  }

  /** Drops every entry without expiring it, and stops the timer. */
  clear(): void {
    // Detach each entry, so a later delete() of one is the no-op it would be after expiry instead
    // of unlinking it from (and perhaps dropping) a new lane with the same timeout.
    for (const lane of this.#lanes.values()) {
      for (let node = lane.head; node !== null; node = node.next) node.lane = null;
    }
    this.#lanes.clear();
    this.#size = 0;
    this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#timerAt = at;
    // Node fires a delay above 2³¹−1 ms after 1 ms instead: wait at most that long, then re-arm.
    this.#timer = setTimeout(() => this.#expire(), Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now())));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #expire(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    // delete() drops a lane as it empties; a lane re-created by onExpire is visited later in this loop.
    for (const lane of this.#lanes.values()) {
      while (lane.head !== null && lane.head.deadline <= now) {
        const node = lane.head;
        this.delete(node);
        this.#onExpire(node.item);
      }
      if (lane.head !== null) next = Math.min(next, lane.head.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.#timerAt) this.#arm(next);
  }
}
