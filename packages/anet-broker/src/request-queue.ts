import type { PendingRequest } from "./pending-request.js";

/**
 * FIFO of requests waiting for a connection slot, linked through the requests themselves, so
 * that a request that times out or aborts while queued leaves in O(1) without a search.
 *
 *   head ⇄ r ⇄ r ⇄ … ⇄ tail      shift() from the head, push() at the tail, remove(r) anywhere
 */
export class RequestQueue {
  #head: PendingRequest | null = null;
  #tail: PendingRequest | null = null;
  #size = 0;

  /** Requests waiting. */
  get size(): number {
    return this.#size;
  }

  /** Adds at the tail. */
  push(request: PendingRequest): void {
    request.queuePrev = this.#tail;
    request.queueNext = null;
    if (this.#tail === null) this.#head = request;
    else this.#tail.queueNext = request;
    this.#tail = request;
    this.#size++;
  }

  /** Puts a request back at the head (its write was refused; it keeps its turn). */
  unshift(request: PendingRequest): void {
    request.queuePrev = null;
    request.queueNext = this.#head;
    if (this.#head === null) this.#tail = request;
    else this.#head.queuePrev = request;
    this.#head = request;
    this.#size++;
  }

  /** Takes the oldest request, or null when empty. */
  shift(): PendingRequest | null {
    const request = this.#head;
    if (request !== null) this.remove(request);
    return request;
  }

  /** Removes a request that is in this queue. */
  remove(request: PendingRequest): void {
    if (request.queuePrev === null) this.#head = request.queueNext;
    else request.queuePrev.queueNext = request.queueNext;
    if (request.queueNext === null) this.#tail = request.queuePrev;
    else request.queueNext.queuePrev = request.queuePrev;
    request.queuePrev = request.queueNext = null;
    this.#size--;
  }
}
