import type { Socket } from "node:net";
import { setMaxListeners } from "node:events";
import {
  type AnetCodecOptions,
  type AnetFrame,
  InvalidArgumentError,
  maxAnetBody,
  refuseOversizedAnetBody,
  TimeoutError,
} from "@switchyard/protocol";
import { AbortedError, type Pool } from "@switchyard/transport";
import { DeadlineQueue, EventFeed, LinkedQueue, rejectWithCallerStack } from "@switchyard/transport/internal";
import { AnetConnection, type AnetConnectionSettings, type ConnectionOwner } from "./anet-connection.js";
import { type AnetBrokerOptions, ms, type ResolvedAnetBrokerOptions, resolveAnetBrokerOptions } from "./broker-options.js";
import { ClosingBrokerError, ConnectionLostError, NoPoolsAvailableError, QueueFullError, QuitError } from "./errors.js";
import { AnetRequest, type RequestOwner, AnetRequestState } from "./anet-request.js";
import { isSocketUsable } from "./tcp-factory.js";

/** Options of one `send()`. */
export interface AnetSendOptions {
  /** Aborts the request with ABORTED. */
  signal?: AbortSignal;
  /** Ms to wait for the response, instead of the broker's `timeout`; 0 waits forever. */
  timeout?: number;
}

/** What `events()` reports about the broker's connections, in the order it happens. */
export type AnetConnectionEvent =
  /** A connection to `address` opened (connection: its number, as the logs name it). */
  | { type: "connected"; address: string; connection: number }
  /** A connection closed while running; `failed` requests in flight on it failed with CONNECTION_LOST. */
  | { type: "disconnected"; address: string; connection: number; reason: string; failed: number }
  /** A dial failed; its pool dials no more for `backoffMs` (its `reconnectDelay` backoff). */
  | { type: "dial-failed"; address: string; reason: string; backoffMs: number }
  /** close() finished; the iterator ends after this. */
  | { type: "closed" };

/** Lifecycle: idle (before `start()`, sends queue) → running → closing → closed. */
export type AnetBrokerState = "idle" | "running" | "closing" | "closed";

/** A snapshot of what the broker holds and what it has counted since it was made. */
export interface AnetBrokerStats {
  state: AnetBrokerState;
  /** Requests waiting for a connection slot. */
  queued: number;
  /** Requests written whose callers still wait. */
  inFlight: number;
  /** Connections the pools hold open: carrying requests, or idle in their pool. */
  connections: number;
  /** Of those, the ones idle in their pool (closed after the pool's `idleTimeout`). */
  idleConnections: number;
  /** Requests written to a connection. */
  sent: number;
  /** Responses delivered to their callers. */
  answered: number;
  timedOut: number;
  aborted: number;
  /** Sends refused with QUEUE_FULL. */
  queueFull: number;
  /** Responses that arrived after their request timed out or aborted, discarded. */
  lateResponses: number;
  /** Server replies that broke the protocol (bad length, unknown task id); each replaced a connection. */
  protocolErrors: number;
  /** Connections that failed or were replaced while the broker was running. */
  connectionsLost: number;
  /** Dials that failed (refused, timed out); each put the address in backoff. */
  dialFailures: number;
}

/** What a request that timed out is failed with inside the broker; its caller gets a TimeoutError made by rejectCaller. */
const TIMED_OUT: unique symbol = Symbol("anet request timed out");

type Counters = Omit<AnetBrokerStats, "state" | "queued" | "inFlight" | "connections" | "idleConnections">;

/**
 * A pipelined client of anet services: `send(body)` resolves with the body the server answers
 * under the same task id.
 *
 * Connections are taken from the pools (one per address) as load needs them, up to `workers` per
 * pool (never above the pool's cap), and go back to their pool when a tick ends with nothing in
 * flight on them. The pools own the connections: they count them, dial them (one dial at a time
 * per pool here), back off from an address whose dial failed, validate an idle connection before
 * it is used again and close one idle for their `idleTimeout`. A connection the broker holds carries up to
 * `maxInflightPerConn` requests at once, matched to responses by task id in any order. A request
 * goes to the least-loaded connection with room; when none has room it waits in a queue of
 * `queueSize`, and beyond that it is refused at once with QUEUE_FULL. Another connection is taken
 * whenever the ones held already carry work, from the pools in turn, skipping a pool in backoff
 * that has no idle connection; when no connection is held or coming and every pool is in backoff,
 * requests fail with NO_POOLS_AVAILABLE.
 *
 *   send() ─► least-loaded connection held with room ─► SocketWriter (one write per tick)
 *        └──► queue (≤ queueSize) ─► a slot frees / a connection comes from a pool ─┘
 *   pool ──get()──► held (load > 0 at a tick's end) ──put() when a tick ends with load 0──► pool (idle)
 *   deadlines: one DeadlineQueue (one timer) for every request, queued or in flight
 *
 * A timeout or abort answers the caller at once; the request's task id stays taken on its
 * connection until the late response is discarded (or `stallTimeout` passes and the connection is
 * replaced), so a reused id can never deliver a stale answer.
 */
export class Broker {
  readonly #options: ResolvedAnetBrokerOptions;
  /** What events() hands out. */
  readonly #events = new EventFeed<AnetConnectionEvent>();
  readonly #codec: AnetCodecOptions;
  readonly #maxBody: number;
  readonly #settings: AnetConnectionSettings;
  readonly #pools: readonly Pool<Socket>[];
  /** Most connections the broker holds from each pool: min(workers, cap), by the pools' order. */
  readonly #limits: number[];
  readonly #connectionLimit: number;
  /** The connections taken from the pools and not yet put back. */
  readonly #connections: AnetConnection[] = [];
  /** The connection of each socket the pools keep idle, to resume when its socket comes back out. */
  readonly #parked = new WeakMap<Socket, AnetConnection>();
  readonly #queue = new LinkedQueue<AnetRequest>();
  readonly #deadlines = new DeadlineQueue<AnetRequest>((request) => this.#onDeadline(request));
  readonly #stopDials = new AbortController();
  readonly #requestOwner: RequestOwner = { onAbort: (request) => this.#onAbort(request) };
  readonly #connectionOwner: ConnectionOwner = {
    onFrames: (connection, frames) => this.#onFrames(connection, frames),
    onViolation: (connection, reason, cause) => this.#onViolation(connection, reason, cause),
    onClosed: (connection, reason, cause) => this.#onClosed(connection, reason, cause),
  };
  readonly #counters: Counters = {
    sent: 0,
    answered: 0,
    timedOut: 0,
    aborted: 0,
    queueFull: 0,
    lateResponses: 0,
    protocolErrors: 0,
    connectionsLost: 0,
    dialFailures: 0,
  };
  #state: AnetBrokerState = "idle";
  /** The last per-send timeout found valid, so a caller passing the same one each time is checked once. */
  #checkedTimeout: number;
  #nextConnection = 0;
  #nextPool = 0;
  /** get()s asked of the pools and not yet answered (at most one per pool). */
  #acquiring = 0;
  /** A setImmediate is set to put back the connections a tick left with nothing in flight. */
  #putBackScheduled = false;
  /** Requests queued or in flight whose callers still wait. */
  #live = 0;
  #onAllSettled: (() => void) | null = null;
  #closing: Promise<void> | null = null;

  /** `pools` from `createPoolList`; the broker closes them when it closes. */
  constructor(pools: readonly Pool<Socket>[], options: AnetBrokerOptions = {}) {
    if (pools.length === 0) throw new InvalidArgumentError("Broker needs at least one pool");
    const resolved = resolveAnetBrokerOptions(options);
    this.#options = resolved;
    this.#codec = { lengthSize: resolved.lengthSize, maxBodyBytes: resolved.maxBodyBytes };
    this.#maxBody = maxAnetBody(this.#codec);
    this.#checkedTimeout = resolved.timeout;
    this.#settings = {
      lengthSize: resolved.lengthSize,
      maxBodyBytes: resolved.maxBodyBytes,
      maxInflightPerConn: resolved.maxInflightPerConn,
      stallTimeout: resolved.stallTimeout,
      writeTimeout: resolved.writeTimeout,
    };
    this.#pools = [...pools];
    this.#limits = pools.map((pool) => Math.min(resolved.workers, pool.cap));
    this.#connectionLimit = this.#limits.reduce((sum, limit) => sum + limit, 0);
    // Every dial listens on this one signal; many pools must not trip the listener-leak warning.
    setMaxListeners(0, this.#stopDials.signal);
  }

  /**
   * Connection events as they happen (connected, disconnected, dial-failed, closed). Each iterator
   * keeps at most EVENT_BUFFER (64) unread events and drops the oldest beyond that; it ends after
   * `closed`.
   */
  events(): AsyncIterableIterator<AnetConnectionEvent> {
    return this.#events.iterator();
  }

  /** Where the broker is in its lifecycle. */
  get state(): AnetBrokerState {
    return this.#state;
  }

  /** Counts and gauges: a plain snapshot, a new object each call. */
  stats(): AnetBrokerStats {
    let open = 0;
    let idle = 0;
    for (const pool of this.#pools) {
      open += pool.busy + pool.idle;
      idle += pool.idle;
    }
    return {
      state: this.#state,
      queued: this.#queue.size,
      inFlight: this.#live - this.#queue.size,
      connections: open,
      idleConnections: idle,
      ...this.#counters,
    };
  }

  /** Starts dispatching (requests sent before wait in the queue). Connections are dialled as load needs them. */
  start(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    if (this.#queue.size > 0) {
      this.#grow();
      this.#failIfStranded();
    }
  }

  /**
   * Sends `body` (a string is sent as UTF-8) and resolves with the response body. Fails with
   * TIMEOUT, ABORTED, QUEUE_FULL, NO_POOLS_AVAILABLE, MAX_LEN_EXCEEDED (before anything is
   * written), CONNECTION_LOST, CLOSING_BROKER or QUIT.
   *
   * The promise returned is the request's own, not an async wrapper's (that would cost every
   * request a promise and a microtask more). A TIMEOUT error is made only when the request times
   * out, chained to this promise so that its stack shows the code awaiting `send()` (see
   * rejectWithCallerStack): capturing a stack for every request in advance, as nats.js does, would
   * cost more than the rest of the request's work together.
   */
  send(body: Uint8Array | string, options: AnetSendOptions = {}): Promise<Buffer> {
    const signal = options.signal;
    const timeout = options.timeout ?? this.#options.timeout;
    if (this.#state === "closing" || this.#state === "closed") return Promise.reject(new ClosingBrokerError("the broker is closing; request not sent"));
    if (signal?.aborted) return Promise.reject(new AbortedError("anet request aborted before it was sent", { cause: signal.reason }));
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    try {
      if (timeout !== this.#checkedTimeout) this.#checkedTimeout = ms("timeout", timeout, 0, "send");
      refuseOversizedAnetBody(bytes.length, this.#maxBody, this.#codec.lengthSize);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const request = new AnetRequest(this.#requestOwner, bytes, timeout, resolve, reject, signal ?? null);
      const refusal = this.#admit(request);
      if (refusal !== null) {
        request.state = AnetRequestState.SETTLED;
        reject(refusal);
        return;
      }
      this.#live++;
      if (timeout > 0) request.deadline = this.#deadlines.add(request, timeout);
      signal?.addEventListener("abort", request);
    });
  }

  /**
   * Fails queued requests with CLOSING_BROKER, waits up to `closeTimeout` for those in flight, fails
   * what is left with QUIT, closes every connection and the pools. Never hangs; idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** For `await using broker = new Broker(…)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#state = "closing";
    this.#stopDials.abort(new ClosingBrokerError("the broker is closing"));
    for (let request = this.#queue.shift(); request !== null; request = this.#queue.shift()) {
      this.#fail(request, new ClosingBrokerError("the broker closed before the request was sent"));
    }
    if (this.#live > 0) await this.#allSettled(this.#options.closeTimeout);
    for (const connection of [...this.#connections]) {
      for (const request of connection.inFlight.values()) {
        if (request.state === AnetRequestState.IN_FLIGHT) {
          this.#fail(request, new QuitError(`the broker quit after waiting ${this.#options.closeTimeout} ms for the response`));
        }
      }
      connection.destroy("the broker closed");
    }
    // Every request is settled or forgotten by now, so no deadline is left to clear.
    await Promise.all(this.#pools.map((pool) => pool.close()));
    this.#state = "closed";
    this.#events.publish({ type: "closed" });
    this.#events.end();
  }

  #allSettled(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#onAllSettled = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#onAllSettled = done;
    });
  }

  /** Writes the request or queues it; returns why it is refused, or null. */
  #admit(request: AnetRequest): Error | null {
    if (this.#state === "running" && this.#queue.size === 0) {
      const connection = this.#pickConnection();
      if (connection !== null && this.#write(connection, request)) {
        if (connection.load > 1) this.#grow();
        return null;
      }
    }
    if (this.#state === "running") {
      this.#grow();
      if (this.#connections.length === 0 && this.#acquiring === 0) return this.#noPools();
    }
    if (this.#queue.size >= this.#options.queueSize) {
      this.#counters.queueFull++;
      return new QueueFullError(`every connection slot and all ${this.#options.queueSize} places in the queue are taken`);
    }
    this.#queue.push(request);
    return null;
  }

  /** The least-loaded connection with a free slot, starting the scan at a rotating offset. */
  #pickConnection(): AnetConnection | null {
    const connections = this.#connections;
    const count = connections.length;
    if (count === 0) return null;
    let best: AnetConnection | null = null;
    let bestLoad = this.#options.maxInflightPerConn;
    const start = this.#nextConnection++ % count;
    for (let i = 0; i < count; i++) {
      const connection = connections[(start + i) % count]!;
      const load = connection.load;
      if (load < bestLoad) {
        best = connection;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  #write(connection: AnetConnection, request: AnetRequest): boolean {
    const taskId = connection.inFlight.add(request);
    if (!connection.write(taskId, request.body!)) {
      connection.inFlight.delete(taskId);
      return false;
    }
    request.body = null;
    request.state = AnetRequestState.IN_FLIGHT;
    request.taskId = taskId;
    request.connection = connection;
    this.#counters.sent++;
    return true;
  }

  /** Moves queued requests onto a connection that has room. */
  #drainQueue(connection: AnetConnection): void {
    const max = this.#options.maxInflightPerConn;
    let busy = false;
    while (this.#queue.size > 0 && connection.open && connection.load < max) {
      const request = this.#queue.shift()!;
      busy ||= connection.load > 0;
      if (!this.#write(connection, request)) {
        this.#queue.unshift(request);
        break;
      }
    }
    if (busy || this.#queue.size > 0) this.#grow();
  }

  /**
   * Takes one more connection when under the limit, from the next pool that can give one now: it
   * has an idle connection, or it is not in backoff (and then dials).
   */
  #grow(): void {
    if (this.#state !== "running" || this.#connections.length + this.#acquiring >= this.#connectionLimit) return;
    const pools = this.#pools;
    for (let i = 0; i < pools.length; i++) {
      const index = (this.#nextPool + i) % pools.length;
      const pool = pools[index]!;
      if (pool.pending === 0 && pool.busy < this.#limits[index]! && (pool.idle > 0 || pool.backoff === 0)) {
        this.#nextPool = index + 1;
        this.#acquire(pool);
        return;
      }
    }
  }

  #acquire(pool: Pool<Socket>): void {
    this.#acquiring++;
    // No acquire timeout: the pool answers within its dialTimeout (and validate), or closes.
    pool.get({ signal: this.#stopDials.signal, timeout: 0 }).then(
      (socket) => {
        this.#acquiring--;
        this.#connected(pool, socket);
      },
      (error: unknown) => {
        this.#acquiring--;
        this.#dialFailed(pool, error);
      },
    );
  }

  #connected(pool: Pool<Socket>, socket: Socket): void {
    if (this.#state !== "running") {
      pool.put(socket);
      return;
    }
    // The pool's validate may be the user's: a socket that is not open cannot carry requests whatever it says.
    if (!isSocketUsable(socket)) {
      pool.release(socket);
      this.#grow();
      this.#failIfStranded();
      return;
    }
    let connection = this.#parked.get(socket);
    if (connection === undefined) {
      connection = new AnetConnection(socket, pool, this.#connectionOwner, this.#settings);
      this.#options.logger.debug({ address: pool.name, connection: connection.id }, "anet: connection opened");
      this.#events.publish({ type: "connected", address: pool.name, connection: connection.id });
    } else {
      this.#parked.delete(socket);
      connection.resume();
    }
    this.#connections.push(connection);
    this.#drainQueue(connection);
    if (connection.load === 0) this.#schedulePutBack();
  }

  #dialFailed(pool: Pool<Socket>, error: unknown): void {
    if (this.#state !== "running") return;
    this.#counters.dialFailures++;
    const wait = pool.backoff;
    const reason = describe(error);
    this.#options.logger.warn({ address: pool.name, reason, backoffMs: wait }, `anet: cannot connect to ${pool.name} (${reason}); skipping it for ${wait} ms`);
    this.#events.publish({ type: "dial-failed", address: pool.name, reason, backoffMs: wait });
    this.#grow();
    this.#failIfStranded();
  }

  #schedulePutBack(): void {
    if (this.#putBackScheduled) return;
    this.#putBackScheduled = true;
    setImmediate(this.#putBackIdle);
  }

  /**
   * Puts back in their pools the connections a tick left with nothing in flight, so that the pools'
   * idleTimeout and validate apply to them. Waiting for the end of the tick keeps a connection
   * whose last response let its caller send the next request (in a microtask) where it is.
   */
  readonly #putBackIdle = (): void => {
    this.#putBackScheduled = false;
    if (this.#state !== "running" || this.#queue.size > 0) return;
    const connections = this.#connections;
    for (let i = connections.length - 1; i >= 0; i--) {
      const connection = connections[i]!;
      if (connection.load > 0) continue;
      connections.splice(i, 1);
      const socket = connection.park();
      this.#parked.set(socket, connection);
      connection.pool.put(socket);
    }
  };

  /** Queued requests cannot be served when no connection is open and no dial is under way. */
  #failIfStranded(): void {
    if (this.#queue.size === 0 || this.#connections.length > 0 || this.#acquiring > 0) return;
    for (let request = this.#queue.shift(); request !== null; request = this.#queue.shift()) this.#fail(request, this.#noPools());
  }

  #noPools(): NoPoolsAvailableError {
    const addresses = this.#pools.map((pool) => pool.name).join(", ");
    const cause = this.#pools.find((pool) => pool.lastDialError !== undefined)?.lastDialError;
    return new NoPoolsAvailableError(`no anet pool is available: every address (${addresses}) failed to connect and is in backoff`, { cause });
  }

  #onFrames(connection: AnetConnection, frames: AnetFrame[]): void {
    for (const frame of frames) {
      const request = connection.inFlight.get(frame.taskId);
      if (request === undefined) {
        this.#onViolation(connection, `it answered task id ${frame.taskId}, which is not in flight on it`);
        return;
      }
      connection.inFlight.delete(frame.taskId);
      if (request.state === AnetRequestState.IN_FLIGHT) {
        this.#counters.answered++;
        const resolve = request.resolve!;
        this.#settle(request);
        resolve(frame.body);
      } else {
        this.#counters.lateResponses++;
        this.#forget(request);
      }
    }
    this.#drainQueue(connection);
    if (connection.load === 0) this.#schedulePutBack();
  }

  #onViolation(connection: AnetConnection, reason: string, cause?: unknown): void {
    this.#counters.protocolErrors++;
    connection.destroy(reason, cause);
  }

  #onClosed(connection: AnetConnection, reason: string, cause: unknown): void {
    this.#connections.splice(this.#connections.indexOf(connection), 1);
    connection.pool.release(connection.socket);
    let failed = 0;
    for (const request of connection.inFlight.values()) {
      if (request.state !== AnetRequestState.IN_FLIGHT) {
        this.#forget(request);
        continue;
      }
      failed++;
      this.#fail(request, new ConnectionLostError(`anet connection to ${connection.address} lost with the request in flight: ${reason}`, { cause }));
    }
    connection.inFlight.clear();
    if (this.#state !== "running") return;
    this.#counters.connectionsLost++;
    const { id, address } = connection;
    this.#options.logger.warn({ address, connection: id, reason, failed }, `anet: connection ${id} to ${address} closed: ${reason}; ${failed} requests in flight failed`);
    this.#events.publish({ type: "disconnected", address, connection: id, reason, failed });
    if (this.#queue.size > 0) {
      this.#grow();
      this.#failIfStranded();
    }
  }

  #onDeadline(request: AnetRequest): void {
    request.deadline = null;
    switch (request.state) {
      case AnetRequestState.QUEUED:
        this.#counters.timedOut++;
        this.#queue.remove(request);
        this.#fail(request, TIMED_OUT);
        break;
      case AnetRequestState.IN_FLIGHT:
        this.#counters.timedOut++;
        this.#abandon(request, TIMED_OUT);
        break;
      case AnetRequestState.ABANDONED:
        // The server kept a request we gave up on for stallTimeout more: the connection is stuck.
        request.connection!.destroy(`no response to abandoned task id ${request.taskId} within ${this.#options.stallTimeout} ms`);
        break;
    }
  }

  #onAbort(request: AnetRequest): void {
    if (request.state !== AnetRequestState.QUEUED && request.state !== AnetRequestState.IN_FLIGHT) return;
    this.#counters.aborted++;
    const error = new AbortedError("anet request aborted", { cause: request.signal?.reason });
    if (request.state === AnetRequestState.QUEUED) {
      this.#queue.remove(request);
      this.#fail(request, error);
    } else {
      this.#abandon(request, error);
    }
  }

  #fail(request: AnetRequest, error: unknown): void {
    const { resolve, reject } = request;
    this.#settle(request);
    rejectCaller(request, resolve!, reject!, error);
  }

  /** Answers the caller now but keeps the task id taken until the response comes or stallTimeout passes. */
  #abandon(request: AnetRequest, error: unknown): void {
    const { resolve, reject } = request;
    this.#settle(request);
    request.state = AnetRequestState.ABANDONED;
    if (this.#options.stallTimeout > 0) request.deadline = this.#deadlines.add(request, this.#options.stallTimeout);
    rejectCaller(request, resolve!, reject!, error);
  }

  /** The caller is answered: drop its deadline, listener and callbacks. */
  #settle(request: AnetRequest): void {
    this.#forget(request);
    request.resolve = request.reject = null;
    if (--this.#live === 0) this.#onAllSettled?.();
  }

  #forget(request: AnetRequest): void {
    request.state = AnetRequestState.SETTLED;
    if (request.deadline !== null) this.#deadlines.delete(request.deadline);
    request.deadline = null;
    if (request.signal !== null) request.signal.removeEventListener("abort", request);
    request.signal = null;
  }
}

/** Rejects the caller of `request` with `error`; a timeout's error is made now, with the stack of the code awaiting `send()`. */
function rejectCaller(request: AnetRequest, resolve: (body: Buffer) => void, reject: (error: unknown) => void, error: unknown): void {
  if (error !== TIMED_OUT) reject(error);
  else rejectWithCallerStack(resolve, reject, () => new TimeoutError(`anet request got no response within ${request.timeout} ms`));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
