import { InvalidArgumentError, TimeoutError } from "@switchyard/protocol";
import { backoffDelay, DEFAULT_MAX_RECONNECT_DELAY, DEFAULT_RECONNECT_DELAY } from "../client/backoff.js";
import { AbortedError, PoolClosedError } from "../errors.js";
import { msOption, numberOption } from "../options/option-checks.js";

/** Default ms an item may sit idle in the pool before it is closed: 1 min. */
export const DEFAULT_POOL_IDLE_TIMEOUT = 60_000;
/** Default ms `get()` waits for an item before failing with TIMEOUT. */
export const DEFAULT_POOL_ACQUIRE_TIMEOUT = 5000;
/** Default ms the factory may take to make an item before it is aborted with TIMEOUT. */
export const DEFAULT_POOL_DIAL_TIMEOUT = 5000;

/** Anything a pool can hold. It is closed with `destroy()` when it has one, else with `close()`. */
export type PoolItem = { destroy(): unknown } | { close(): unknown };

/**
 * Makes a new item. `signal` aborts when `dialTimeout` passes or the pool closes; a factory that
 * ignores it is still abandoned then, and the item it makes later is closed.
 */
export type PoolFactory<T> = (signal: AbortSignal) => T | Promise<T>;

/** Options of a Pool. `cap` and `factory` are required: a pool's size is not something to guess. */
export interface PoolOptions<T extends PoolItem> {
  /** Most items that exist at once: idle, busy and being made. An integer ≥ 1. */
  cap: number;
  /** Makes an item (dials a connection). */
  factory: PoolFactory<T>;
  /**
   * Runs before an idle item is handed out; false (or a throw) releases it and another is used or
   * made. Default: every item is valid.
   */
  validate?: (item: T) => boolean | Promise<boolean>;
  /** Ms an item may stay idle before it is closed; 0 keeps idle items forever. Default 60 000. */
  idleTimeout?: number;
  /** Ms `get()` waits for an item before it fails with TIMEOUT; 0 waits forever. Default 5000. */
  acquireTimeout?: number;
  /** Ms the factory may take before it is aborted with TIMEOUT; 0 never. Default 5000. */
  dialTimeout?: number;
  /**
   * Ms the pool waits, after a failed dial, before it dials again; doubles with each failure in a
   * row up to `maxReconnectDelay`, with jitter, and resets when a dial succeeds. Idle items are
   * still handed out meanwhile. 0 dials again at once. Default 100 (as the clients' reconnects).
   */
  reconnectDelay?: number;
  /** Longest wait, in ms, between dials while they keep failing. Default 5000. */
  maxReconnectDelay?: number;
  /** Name in error messages and logs, e.g. the address dialled. Default "pool". */
  name?: string;
}

/** Options of one `get()`. */
export interface PoolGetOptions {
  /** Aborts the wait with ABORTED. */
  signal?: AbortSignal;
  /** Ms to wait, instead of the pool's `acquireTimeout`; 0 waits forever. */
  timeout?: number;
}

interface Waiter<T> {
  resolve(item: T): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface IdleEntry<T> {
  item: T;
  /** performance.now() when it became idle. */
  since: number;
}

/**
 * A bounded pool of reusable items (connections): at most `cap` exist at once, waiters are served
 * first come first served, idle items are validated before reuse and closed after `idleTimeout`,
 * and a failed dial puts the pool in backoff (no dial until it passes) so a dead address is not
 * hammered. The one place that counts an address's connections and dials.
 *
 *   get() ──► waiters (FIFO) ◄── an item arrives: put(), a validated idle one, or a fresh dial
 *                │                                                (not while in backoff)
 *   size = idle + busy + incoming ≤ cap
 *   idle:  [oldest … newest]   get() takes the newest (warm); the eviction timer closes the oldest
 *   incoming: items being dialled or validated, each on its way to the first waiter
 */
export class Pool<T extends PoolItem> {
  /** The name given in the options, for messages and logs. */
  readonly name: string;
  readonly #cap: number;
  readonly #factory: PoolFactory<T>;
  readonly #validate: ((item: T) => boolean | Promise<boolean>) | undefined;
  readonly #idleTimeout: number;
  readonly #acquireTimeout: number;
  readonly #dialTimeout: number;
  readonly #reconnectDelay: number;
  readonly #maxReconnectDelay: number;
  readonly #idle: IdleEntry<T>[] = [];
  readonly #busy = new Set<T>();
  readonly #waiters = new Set<Waiter<T>>();
  readonly #dials = new Set<AbortController>();
  readonly #dialing = new Set<Promise<void>>();
  #size = 0;
  #incoming = 0;
  #closed = false;
  #idleTimer: NodeJS.Timeout | null = null;
  /** Dials that failed in a row; the next backoff grows with it. */
  #dialFailures = 0;
  /** performance.now() before which the pool does not dial. */
  #retryAt = 0;
  #lastDialError: unknown = undefined;
  /** Wakes the waiters when a backoff ends. */
  #backoffTimer: NodeJS.Timeout | null = null;

  constructor(options: PoolOptions<T>) {
    // Required: `?? null` makes a missing cap fail the check instead of taking a fallback.
    const cap = numberOption(`pool option "cap"`, options.cap ?? null, 0, { min: 1, max: Number.MAX_SAFE_INTEGER });
    if (typeof options.factory !== "function") throw new InvalidArgumentError(`pool option "factory" must be a function`);
    this.name = options.name ?? "pool";
    this.#cap = cap;
    this.#factory = options.factory;
    this.#validate = options.validate;
    this.#idleTimeout = msOption('pool option "idleTimeout"', options.idleTimeout, DEFAULT_POOL_IDLE_TIMEOUT);
    this.#acquireTimeout = msOption('pool option "acquireTimeout"', options.acquireTimeout, DEFAULT_POOL_ACQUIRE_TIMEOUT);
    this.#dialTimeout = msOption('pool option "dialTimeout"', options.dialTimeout, DEFAULT_POOL_DIAL_TIMEOUT);
    this.#reconnectDelay = msOption('pool option "reconnectDelay"', options.reconnectDelay, DEFAULT_RECONNECT_DELAY);
    this.#maxReconnectDelay = msOption('pool option "maxReconnectDelay"', options.maxReconnectDelay, DEFAULT_MAX_RECONNECT_DELAY);
  }

  /** Most items that may exist at once. */
  get cap(): number {
    return this.#cap;
  }

  /** Items that exist now: idle, busy, and being made or validated. Never above `cap`. */
  get size(): number {
    return this.#size;
  }

  /** Items waiting in the pool to be handed out. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Items handed out and not yet put back or released. */
  get busy(): number {
    return this.#busy.size;
  }

  /** Callers of `get()` still waiting for an item. */
  get pending(): number {
    return this.#waiters.size;
  }

  /** Ms until the pool dials again after failed dials; 0 when it may dial now. */
  get backoff(): number {
    return this.#retryAt === 0 ? 0 : Math.max(0, Math.ceil(this.#retryAt - performance.now()));
  }

  /** The error of the last failed dial, until a dial succeeds. */
  get lastDialError(): unknown {
    return this.#lastDialError;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves with an item: an idle one that passes `validate`, else a new one while under `cap`,
   * else the next one put back. Fails with CLOSING when the pool closes, TIMEOUT after the acquire
   * timeout, ABORTED when `signal` aborts, or the factory's own error when dialling fails.
   * Accepts an AbortSignal directly, as anet's `Get(ctx)` did.
   */
  get(options?: AbortSignal | PoolGetOptions): Promise<T> {
    const { signal, timeout } = options instanceof AbortSignal ? { signal: options, timeout: undefined } : (options ?? {});
    if (this.#closed) return Promise.reject(new PoolClosedError(`pool ${this.name} is closed`));
    if (signal?.aborted) return Promise.reject(new AbortedError(`get from pool ${this.name} aborted`, { cause: signal.reason }));
    let wait: number;
    try {
      wait = msOption('pool option "timeout"', timeout, this.#acquireTimeout);
    } catch (error) {
      return Promise.reject(error);
    }
    // Created here so that its stack points at the caller of get(), not at a timer.
    const timeoutError = wait > 0 ? new TimeoutError(`no item from pool ${this.name} within ${wait} ms`) : undefined;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal, onAbort: undefined, timer: undefined };
      if (timeoutError !== undefined) waiter.timer = setTimeout(() => this.#fail(waiter, timeoutError), wait);
      if (signal !== undefined) {
        waiter.onAbort = () => this.#fail(waiter, new AbortedError(`get from pool ${this.name} aborted`, { cause: signal.reason }));
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.add(waiter);
      this.#pump();
    });
  }

  /** Returns an item taken with `get()`: the first waiter gets it, else it goes idle. */
  put(item: T): void {
    this.#takeBack(item);
    if (this.#closed) this.#discard(item);
    else this.#deliver(item);
  }

  /** Closes an item taken with `get()` and forgets it, freeing its slot (for broken connections). */
  release(item: T): void {
    this.#takeBack(item);
    this.#discard(item);
    this.#pump();
  }

  /** For `await using pool = new Pool(…)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Rejects every waiter with CLOSING, closes idle items and aborts dials in progress; busy items
   * are closed when they are put back or released. Resolves once the dials have settled. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const waiter of this.#waiters) this.#fail(waiter, new PoolClosedError(`pool ${this.name} is closing`));
      this.#clearIdleTimer();
      if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
      this.#backoffTimer = null;
      for (const entry of this.#idle.splice(0)) this.#discard(entry.item);
      for (const dial of this.#dials) dial.abort(new PoolClosedError(`pool ${this.name} is closing`));
    }
    await Promise.allSettled(this.#dialing);
  }

  /** Sends items towards waiters that no incoming item is already meant for. */
  #pump(): void {
    while (!this.#closed && this.#waiters.size > this.#incoming) {
      const entry = this.#idle.pop();
      if (entry !== undefined) this.#check(entry.item);
      else if (this.#size >= this.#cap) return;
      else if (this.backoff > 0) {
        this.#armBackoffTimer();
        return;
      } else this.#dial();
    }
  }

  #armBackoffTimer(): void {
    if (this.#backoffTimer !== null) return;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = null;
      this.#pump();
    }, this.backoff);
  }

  #check(item: T): void {
    this.#incoming++;
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.#validate === undefined ? true : this.#validate(item);
    } catch {
      verdict = false;
    }
    if (typeof verdict === "boolean") this.#checked(item, verdict);
    else
      Promise.resolve(verdict).then(
        (ok) => this.#checked(item, ok === true),
        () => this.#checked(item, false),
      );
  }

  #checked(item: T, ok: boolean): void {
    this.#incoming--;
    if (ok && !this.#closed) {
      this.#deliver(item);
      return;
    }
    this.#discard(item);
    this.#pump();
  }

  #dial(): void {
    this.#size++;
    this.#incoming++;
    const controller = new AbortController();
    this.#dials.add(controller);
    const timer =
      this.#dialTimeout > 0
        ? setTimeout(() => controller.abort(new TimeoutError(`pool ${this.name}: factory took longer than ${this.#dialTimeout} ms`)), this.#dialTimeout)
        : undefined;
    const dialing: Promise<void> = runFactory(this.#factory, controller.signal)
      .then(
        (item) => {
          this.#incoming--;
          this.#dialFailures = 0;
          this.#retryAt = 0;
          this.#lastDialError = undefined;
          if (this.#closed) this.#discard(item);
          else this.#deliver(item);
        },
        (error: unknown) => {
          this.#incoming--;
          this.#size--;
          if (!this.#closed) {
            this.#lastDialError = error;
            this.#retryAt = performance.now() + backoffDelay(this.#dialFailures++, this.#reconnectDelay, this.#maxReconnectDelay);
          }
          // The waiter that has waited longest hears why; the others get their own attempt once the backoff passes.
          const first = this.#firstWaiter();
          if (first !== undefined) this.#fail(first, error);
          this.#pump();
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#dials.delete(controller);
        this.#dialing.delete(dialing);
      });
    this.#dialing.add(dialing);
  }

  #deliver(item: T): void {
    const waiter = this.#firstWaiter();
    if (waiter !== undefined) {
      this.#detach(waiter);
      this.#busy.add(item);
      waiter.resolve(item);
      return;
    }
    this.#idle.push({ item, since: performance.now() });
    this.#armIdleTimer();
  }

  #takeBack(item: T): void {
    if (!this.#busy.delete(item)) throw new InvalidArgumentError(`item was not taken from pool ${this.name}, or was already returned`);
  }

  #discard(item: T): void {
    this.#size--;
    destroyItem(item);
  }

  #firstWaiter(): Waiter<T> | undefined {
    return this.#waiters.values().next().value;
  }

  #fail(waiter: Waiter<T>, error: unknown): void {
    if (!this.#waiters.has(waiter)) return;
    this.#detach(waiter);
    waiter.reject(error);
  }

  #detach(waiter: Waiter<T>): void {
    this.#waiters.delete(waiter);
    clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener("abort", waiter.onAbort);
  }

  #armIdleTimer(): void {
    if (this.#idleTimer !== null || this.#idleTimeout === 0 || this.#idle.length === 0) return;
    const wait = this.#idle[0]!.since + this.#idleTimeout - performance.now();
    this.#idleTimer = setTimeout(this.#evictIdle, Math.max(0, wait));
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /** The stack is ordered by `since`, oldest first, so expired items form a prefix. */
  readonly #evictIdle = (): void => {
    this.#idleTimer = null;
    const cutoff = performance.now() - this.#idleTimeout;
    let expired = 0;
    while (expired < this.#idle.length && this.#idle[expired]!.since <= cutoff) expired++;
    for (const entry of this.#idle.splice(0, expired)) this.#discard(entry.item);
    this.#armIdleTimer();
  };
}

/**
 * Runs the factory, settling early with the signal's reason when it aborts; an item that arrives
 * after that is closed rather than leaked.
 */
function runFactory<T extends PoolItem>(factory: PoolFactory<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    new Promise<T>((made) => made(factory(signal))).then(
      (item) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) destroyItem(item);
        else resolve(item);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Closes an item, swallowing what its close reports: the pool is done with it either way. */
function destroyItem(item: PoolItem): void {
  try {
    const result = "destroy" in item && typeof item.destroy === "function" ? item.destroy() : (item as { close(): unknown }).close();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // A close that throws still leaves the item forgotten by the pool.
  }
}
