import type { BrokerRequest } from "./broker-request.js";

/**
 * The requests of one channel waiting for provider capacity, first come first served. Intrusive
 * doubly linked list through `queuePrev/queueNext`, so a cancelled or timed-out request leaves
 * from the middle in O(1) and queueing allocates nothing.
 *
 *   head ─► [r1] ⇄ [r2] ⇄ [r3] ◄─ tail       push at tail, shift at head, remove anywhere
 */
export class RequestQueue {
  #head: BrokerRequest | null = null;
  #tail: BrokerRequest | null = null;
  #size = 0;

  /** Requests waiting. */
  get size(): number {
    return this.#size;
  }

  push(request: BrokerRequest): void {
    request.queuePrev = this.#tail;
    request.queueNext = null;
    if (this.#tail === null) this.#head = request;
    else this.#tail.queueNext = request;
    this.#tail = request;
    this.#size++;
  }

  /** Takes the oldest request, or null when empty. */
  shift(): BrokerRequest | null {
    const head = this.#head;
    if (head !== null) this.remove(head);
    return head;
  }

  /** Takes `request` out; the caller guarantees it is in this queue. */
  remove(request: BrokerRequest): void {
    if (request.queuePrev === null) this.#head = request.queueNext;
    else request.queuePrev.queueNext = request.queueNext;
    if (request.queueNext === null) this.#tail = request.queuePrev;
    else request.queueNext.queuePrev = request.queuePrev;
    request.queuePrev = request.queueNext = null;
    this.#size--;
  }

  /** Every waiting request, oldest first (a snapshot: safe to settle them while iterating). */
  toArray(): BrokerRequest[] {
    const out: BrokerRequest[] = [];
    for (let r = this.#head; r !== null; r = r.queueNext) out.push(r);
    return out;
  }
}
