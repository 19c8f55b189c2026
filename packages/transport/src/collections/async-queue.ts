interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };
/** Compact the array once this many read slots lie before the head. */
const COMPACT_AFTER = 1024;

/**
 * A push-fed async iterator: one producer pushes, one reader pulls with `for await`.
 *
 *   push(x) ──► [ x x x ] ──► next()      end(): the reader drains what is queued, then is done
 *                                          fail(e): the reader drains what is queued, then gets e
 *                                          return(): the reader left; the queue is cleared, onReturn runs
 *
 * The queue itself is unbounded: its producer bounds it (a request count, a byte limit), because
 * only the producer knows what the limit means.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #head = 0;
  #waiters: Waiter<T>[] = [];
  #ended = false;
  #error: { error: unknown } | null = null;
  readonly #onReturn: (() => void) | undefined;
  readonly #onTaken: ((item: T) => void) | undefined;

  /**
   * `onReturn` runs once if the reader leaves (break, return()) before the queue ended; `onTaken`
   * runs for each item as the reader gets it (a flow-controlled stream grants credit there).
   */
  constructor(onReturn?: () => void, onTaken?: (item: T) => void) {
    this.#onReturn = onReturn;
    this.#onTaken = onTaken;
  }

  /** Items pushed and not read yet. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once end(), fail() or return() was called: push() no longer queues. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Queues an item for the reader; false (and nothing queued) once the queue ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#items.push(item);
      return true;
    }
    waiter.resolve({ done: false, value: item });
    this.#onTaken?.(item);
    return true;
  }

  /** No more items: the reader gets what is queued, then `done`. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wakeWaiters();
  }

  /** Ends with an error: the reader gets what is queued, then `error` is thrown. Idempotent. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = { error };
    this.#wakeWaiters();
  }

  /** The next item, waiting for one; `done` once ended and drained; throws fail()'s error after the queued items. */
  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const item = this.#shift();
      this.#onTaken?.(item);
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#error !== null) return Promise.reject(this.#error.error);
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The reader leaves: what is queued is dropped; `onReturn` runs if the queue had not ended. */
  return(): Promise<IteratorResult<T>> {
    const wasEnded = this.#ended;
    this.#ended = true;
    this.#error = null;
    this.#items = [];
    this.#head = 0;
    this.#wakeWaiters();
    if (!wasEnded) this.#onReturn?.();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #shift(): T {
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as T; // let the item be collected
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (this.#error !== null) waiter.reject(this.#error.error);
      else waiter.resolve(DONE);
    }
  }
}
