import { MAX_TIMER_MS } from "../options/option-checks.js";

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
  /** Where the lane stands in the heap of lanes. */
  at: number;
}

/**
 * Deadlines for many items (requests in flight) with one timer, whatever their number, and
 * whatever timeouts the callers pass.
 *
 * Entries are grouped in lanes by timeout value. Within a lane, entries are added in time order, so
 * each lane is a doubly linked list sorted by deadline: adding and cancelling are O(1). The lanes
 * that hold entries sit in a binary min-heap ordered by their head's deadline, so the earliest
 * deadline of all is at the heap's top: an expiry costs O(log lanes), and so does a lane's head
 * leaving early — however many distinct timeouts there are. The common case (one or a few
 * timeouts, a heap of one or a few lanes) costs what a plain list would.
 *
 *   heap of lanes (by head deadline)         lane 2000 ms: [d=t+2001] ⇄ …
 *          [2000 ms]  ◄── timer armed for      lane 5000 ms: [d=t+5000] ⇄ [d=t+5003] ⇄ …
 *          /       \       its head           lane 7313 ms: [d=t+7400]
 *   [5000 ms]   [7313 ms]
 */
export class DeadlineQueue<T> {
  readonly #onExpire: (item: T) => void;
  readonly #lanes = new Map<number, Lane<T>>();
  /** The lanes that hold entries, a min-heap by their head's deadline. */
  readonly #heap: Lane<T>[] = [];
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
      lane = { timeout: timeoutMs, head: null, tail: null, at: -1 };
      this.#lanes.set(timeoutMs, lane);
    }
    const node: Node<T> = { item, deadline: performance.now() + timeoutMs, prev: lane.tail, next: null, lane };
    if (lane.tail === null) {
      lane.head = node;
      lane.tail = node;
      this.#heapPush(lane);
    } else {
      lane.tail.next = node;
      lane.tail = node;
    }
    this.#size++;
    if (node.deadline < this.#timerAt) this.#arm(node.deadline);
    return node;
  }

  /** Removes an entry before it expires; harmless if it already expired or was deleted. */
  delete(entry: DeadlineEntry<T>): void {
    const node = entry as Node<T>;
    const lane = node.lane;
    if (lane === null) return;
    const wasHead = node.prev === null;
    if (wasHead) lane.head = node.next;
    else node.prev!.next = node.next;
    if (node.next === null) lane.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = node.lane = null;
    this.#size--;
    if (lane.head === null) {
      // An empty lane goes at once: with many distinct timeouts (a provider's "time left") lanes
      // would otherwise pile up.
      this.#lanes.delete(lane.timeout);
      this.#heapRemove(lane);
    } else if (wasHead) {
      this.#siftDown(lane); // its head's deadline moved later
    }
  }

  /** Drops every entry without expiring it, and stops the timer. */
  clear(): void {
    // Detach each entry, so a later delete() of one is the no-op it would be after expiry instead
    // of unlinking it from (and perhaps dropping) a new lane with the same timeout.
    for (const lane of this.#heap) {
      for (let node = lane.head; node !== null; node = node.next) node.lane = null;
    }
    this.#lanes.clear();
    this.#heap.length = 0;
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

  /** Expires every entry that is due, earliest first, then arms for the next. */
  #expire(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const heap = this.#heap;
    // delete() keeps the heap in order as heads leave; onExpire may add entries (and arm) meanwhile.
    while (heap.length > 0) {
      const node = heap[0]!.head!;
      if (node.deadline > now) break;
      this.delete(node);
      this.#onExpire(node.item);
    }
    if (heap.length > 0 && heap[0]!.head!.deadline < this.#timerAt) this.#arm(heap[0]!.head!.deadline);
  }

  #heapPush(lane: Lane<T>): void {
    lane.at = this.#heap.length;
    this.#heap.push(lane);
    this.#siftUp(lane);
  }

  #heapRemove(lane: Lane<T>): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    const at = lane.at;
    lane.at = -1;
    if (last === lane) return;
    heap[at] = last;
    last.at = at;
    this.#siftDown(last);
    this.#siftUp(last);
  }

  #siftUp(lane: Lane<T>): void {
    const heap = this.#heap;
    const deadline = lane.head!.deadline;
    let at = lane.at;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (parent.head!.deadline <= deadline) break;
      heap[at] = parent;
      parent.at = at;
      at = parentAt;
    }
    heap[at] = lane;
    lane.at = at;
  }

  #siftDown(lane: Lane<T>): void {
    const heap = this.#heap;
    const length = heap.length;
    const deadline = lane.head!.deadline;
    let at = lane.at;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= length) break;
      const right = childAt + 1;
      if (right < length && heap[right]!.head!.deadline < heap[childAt]!.head!.deadline) childAt = right;
      const child = heap[childAt]!;
      if (child.head!.deadline >= deadline) break;
      heap[at] = child;
      child.at = at;
      at = childAt;
    }
    heap[at] = lane;
    lane.at = at;
  }
}
