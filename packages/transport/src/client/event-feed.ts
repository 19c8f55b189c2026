/** Most events one reader keeps unread; older ones are dropped (and counted) beyond it. */
export const EVENT_BUFFER = 64;

/**
 * One reader's view of a feed: a bounded queue. A reader that falls behind loses the oldest events,
 * never the newest (the last one says where things are now), and `dropped` counts what it lost.
 */
class EventIterator<E> implements AsyncIterableIterator<E> {
  readonly #events: E[] = [];
  #waiter: ((result: IteratorResult<E>) => void) | null = null;
  #ended = false;
  readonly #leave: (iterator: EventIterator<E>) => void;
  /** Events dropped because this reader was EVENT_BUFFER behind. */
  dropped = 0;

  constructor(leave: (iterator: EventIterator<E>) => void) {
    this.#leave = leave;
  }

  push(event: E): void {
    if (this.#ended) return;
    if (this.#waiter !== null) {
      const wake = this.#waiter;
      this.#waiter = null;
      wake({ done: false, value: event });
      return;
    }
    if (this.#events.length >= EVENT_BUFFER) {
      this.#events.shift();
      this.dropped++;
    }
    this.#events.push(event);
  }

  end(): void {
    this.#ended = true;
    const wake = this.#waiter;
    this.#waiter = null;
    wake?.({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<E>> {
    if (this.#events.length > 0) return Promise.resolve({ done: false, value: this.#events.shift()! });
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<E>> {
    this.#events.length = 0;
    this.end();
    this.#leave(this);
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this;
  }
}

/**
 * Events for any number of readers, each bounded (EVENT_BUFFER, oldest dropped): what a client's
 * status() and the anet Broker's events() hand out. None is kept after end().
 */
export class EventFeed<E> {
  readonly #readers = new Set<EventIterator<E>>();
  #ended = false;

  /** A new reader of every event from now on; it ends when the feed ends. */
  iterator(): AsyncIterableIterator<E> {
    const reader = new EventIterator<E>((left) => this.#readers.delete(left));
    if (this.#ended) reader.end();
    else this.#readers.add(reader);
    return reader;
  }

  /** Hands `event` to every reader. Nothing after end(). */
  publish(event: E): void {
    if (this.#ended) return;
    for (const reader of this.#readers) reader.push(event);
  }

  /** No more events: readers get what they have, then `done`. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const reader of this.#readers) reader.end();
    this.#readers.clear();
  }
}
