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
    request.prev = this.#tail;
    request.next = null;
    if (this.#tail === null) this.#head = request;
    else this.#tail.next = request;
    this.#tail = request;
    this.#size++;
  }

  /** Puts a request back at the head (its write was refused; it keeps its turn). */
  unshift(request: PendingRequest): void {
    request.prev = null;
    request.next = this.#head;
    if (this.#head === null) this.#tail = request;
    else this.#head.prev = request;
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
    if (request.prev === null) this.#head = request.next;
    else request.prev.next = request.next;
    if (request.next === null) this.#tail = request.prev;
    else request.next.prev = request.prev;
    request.prev = request.next = null;
    this.#size--;
  }
}
