/** The links an item carries to sit in a LinkedQueue (null while it is in none). */
export interface QueueLinks<T> {
  queuePrev: T | null;
  queueNext: T | null;
}

/**
 * FIFO linked through the items themselves: pushing allocates nothing, and an item that leaves
 * early (timed out, aborted, cancelled) is removed from the middle in O(1) without a search.
 * An item is in at most one queue at a time.
 *
 *   head ─► [a] ⇄ [b] ⇄ [c] ◄─ tail      push/unshift at the ends, shift from the head, remove anywhere
 */
export class LinkedQueue<T extends QueueLinks<T>> {
  #head: T | null = null;
  #tail: T | null = null;
  #size = 0;

  /** Items waiting. */
  get size(): number {
    return this.#size;
  }

  /** Adds at the tail. */
  push(item: T): void {
    item.queuePrev = this.#tail;
    item.queueNext = null;
    if (this.#tail === null) this.#head = item;
    else this.#tail.queueNext = item;
    this.#tail = item;
    this.#size++;
  }

  /** Puts an item back at the head (it keeps its turn). */
  unshift(item: T): void {
    item.queuePrev = null;
    item.queueNext = this.#head;
    if (this.#head === null) this.#tail = item;
    else this.#head.queuePrev = item;
    this.#head = item;
    this.#size++;
  }

  /** Takes the oldest item, or null when empty. */
  shift(): T | null {
    const head = this.#head;
    if (head !== null) this.remove(head);
    return head;
  }

  /** Takes `item` out; the caller guarantees it is in this queue. */
  remove(item: T): void {
    if (item.queuePrev === null) this.#head = item.queueNext;
    else item.queuePrev.queueNext = item.queueNext;
    if (item.queueNext === null) this.#tail = item.queuePrev;
    else item.queueNext.queuePrev = item.queuePrev;
    item.queuePrev = item.queueNext = null;
    this.#size--;
  }

  /** Every item, oldest first: a snapshot, safe to settle them while iterating. */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.#head; item !== null; item = item.queueNext) out.push(item);
    return out;
  }
}
