import {
  type ProtocolVersion,
  BrokerError,
  decodeHeaderBlock,
  HEADERS_SINCE_MINOR,
  NO_HEADERS,
  CancelledError,
  CAPACITY_SINCE_MINOR,
  CONNECTION_ID,
  encodeCapacity,
  type Frame,
  FrameFlags,
  FrameType,
  InvalidArgumentError,
  MAX_TIMEOUT_MS,
  ProtocolError,
  REQUEST_HEAD_SIZE,
  ROUTING_HEADER_SIZE,
  Role,
  TimeoutError,
} from "@switchyard/protocol";
import type { ClientState, ClientStatus, ClientTransportStats } from "@switchyard/transport";
import {
  AsyncQueue,
  type BaseClient,
  type BodyRoute,
  type ConnectionContext,
  errorFromPayload,
  Fleet,
  type FleetLink,
  numberOption,
  RequestIdTable,
  RequestTable,
  loadTracing,
  type Tracing,
} from "@switchyard/transport/internal";
import { CapacityPolicy } from "./capacity-policy.js";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_REQUEST_BYTES,
  type Handler,
  type ProviderOptions,
  type RequestBodyMode,
} from "./provider-options.js";
import { InboundRequest, type RequestOwner } from "./inbound-request.js";
import type { ProviderRequest, RequestContext } from "./request-context.js";

/**
 * Ms after a request's deadline at which the provider gives up on it by itself (ctx.signal aborts
 * with TIMEOUT), at the latest SAFETY_NET_STEP_MS later. The broker cancels a request whose
 * deadline passed with a CANCEL, which normally comes first and says why; this only catches a
 * CANCEL that never came (the broker's queue to us was full, say), so slots are never held forever.
 */
const DEADLINE_GRACE_MS = 1000;
/**
 * The safety net's resolution: its timeouts are rounded up to a multiple of this many ms. The
 * broker forwards each request's time left, which differs from request to request; rounded, they
 * fall into a few lanes of the table's DeadlineQueue instead of one lane (and heap entry) each.
 */
const SAFETY_NET_STEP_MS = 250;
/**
 * Ms from a connection's becoming busy (its capacity all in use) to the rebalance that gives it
 * more: busy signals within it make one rebalance, so a connection is sent at most one CAPACITY per
 * interval; a ramp from a fair share to the whole concurrency takes a step or two of it.
 */
const REBALANCE_INTERVAL_MS = 20;
/** Where a request START's body begins: after the routing header and the request head. */
const START_BODY_OFFSET = ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE;

/** A provider's counters, from `stats()`: a plain snapshot. */
export interface ProviderStats extends ClientTransportStats {
  /** Requests received (accepted into its tables) since start, from every broker. */
  requests: number;
  /** Every broker of the fleet by its address ("127.0.0.1:9090", "tls://10.0.0.5:9090") and the state of the connection to it. */
  brokers: Record<string, ClientState>;
  /** Each connected broker's capacity: how many requests it may route to this provider at once now. */
  capacities: Record<string, number>;
}

/** One broker's connection as the provider keeps it: the requests it routed here, and its capacity. */
interface ProviderLink {
  readonly link: FleetLink;
  /** Its requests in flight by the requestId that broker gave them (any 16 bytes; another broker may use the same). */
  readonly table: RequestTable<InboundRequest>;
  /** What its requests need of the provider, with this connection's protocol version. */
  readonly owner: RequestOwner;
  /** The capacity of its last registration. */
  registered: number;
  /**
   * The most requests its broker may have routed here at once on this connection: the highest
   * capacity announced on it (a lowered capacity still lets requests sent before it arrive). Past
   * it a START is refused OVERLOADED: the table's bound.
   */
  ceiling: number;
}

/**
 * Serves the requests of one channel that Switchyard brokers route to it: either through a
 * handler, or through `requests()` when connected without one.
 *
 * Given a fleet of brokers (several addresses, or a name that resolves to several), it attaches to
 * every one — one connection each, each reconnecting on its own — and serves them all. It declares
 * a capacity to each broker, which never routes more at once, and moves capacity between them as
 * demand moves (CapacityPolicy: every broker keeps at least 1; a busy one can grow to the whole
 * `concurrency`). `concurrency` bounds the work at the provider across all brokers: handlers
 * running, or requests handed out by `requests()` and not yet answered. A request routed beyond it
 * (brokers may together route a few more than `concurrency`, and a handler that ignores
 * `ctx.signal` after a cancel keeps its slot until it returns) waits here for a free slot, its
 * deadline running; cancelled, it leaves at once.
 *
 * After a broker goes away the provider reconnects to it and registers again; handlers still
 * running for the lost connection see `ctx.signal` abort with DISCONNECTED (their answers could not
 * be delivered: that broker has answered those consumers PROVIDER_GONE). The other brokers' requests
 * go on.
 */
export class Provider {
  #requests = 0;
  readonly #fleet: Fleet;
  readonly #handler: Handler | null;
  readonly #concurrency: number;
  readonly #maxRequestBytes: number;
  /** requestBody: a mode for every request, or the function that picks one per request. */
  readonly #requestBody: RequestBodyMode | ((ctx: RequestContext) => RequestBodyMode);
  /** Every broker's connection, by the fleet's link. */
  readonly #links = new Map<FleetLink, ProviderLink>();
  /** How capacity is spread over the brokers. */
  readonly #policy: CapacityPolicy<FleetLink>;
  /** Handlerless mode: requests handed to requests() and not yet taken. Bounded by concurrency. */
  readonly #queue: AsyncQueue<InboundRequest> | null;
  /**
   * Requests holding one of the `concurrency` slots: with a handler, handlers running, each counted
   * until its answer is queued (or it was cancelled and it returned) — a cancelled request leaves
   * its table at once, since the broker has already given its consumer an outcome and frees the
   * slot, but a handler deaf to ctx.signal keeps running and keeps its place here; without one,
   * requests handed to requests() until they are answered, failed or cancelled.
   */
  #active = 0;
  /** Handlerless mode: the requests counted in #active. */
  readonly #handedOut = new Set<InboundRequest>();
  /**
   * Requests received whole while every slot was held, in arrival order. Each is in its
   * connection's table, so there are fewer than the brokers' capacities add up to; one that is
   * cancelled while it waits leaves at once.
   */
  readonly #waiting = new Set<InboundRequest>();
  #closing = false;
  /** Set while a rebalance is due. */
  #rebalanceTimer: NodeJS.Timeout | null = null;
  /** OpenTelemetry spans, when @opentelemetry/api is installed (set at connect); null: none, at no cost. */
  #tracing: Tracing | null = null;

  private constructor(addresses: string | readonly string[], channelId: string, handler: Handler | null, options: ProviderOptions) {
    this.#handler = handler;
    this.#concurrency = numberOption("concurrency", options.concurrency, DEFAULT_CONCURRENCY, { min: 1, max: MAX_TIMEOUT_MS });
    this.#maxRequestBytes = numberOption("maxRequestBytes", options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, { min: 0 });
    this.#requestBody = requestBodyOption(options.requestBody);
    this.#policy = new CapacityPolicy(this.#concurrency);
    this.#queue = handler === null ? new AsyncQueue<InboundRequest>(() => this.#refuseUntaken()) : null;
    const policy = this.#policy;
    this.#fleet = new Fleet(
      addresses,
      (link) => {
        const state = this.#linkState(link);
        const fleet = () => this.#fleet;
        return {
          role: Role.PROVIDER,
          channelId,
          // read at every registration: a broker (re)joining gets a share of what the others do not hold
          get capacity() {
            state.registered = policy.registrationCapacity(fleet().links.length);
            return state.registered;
          },
        };
      },
      (link) => {
        const state = this.#linkState(link);
        return {
          onFrame: (frame, route) => this.#onFrame(state, frame, route),
          onDisconnect: (error) => this.#cancelAll(state, error),
          onClosing: () => {}, // the provider's own close() stops taking requests; one broker giving up does not
          whenIdle: () => state.table.whenEmpty(),
          onClose: (error) => {
            this.#cancelAll(state, error);
            this.#links.delete(link);
          },
          onStatus: (event) => this.#onLinkStatus(state, event),
        };
      },
      options,
    );
    void this.#fleet.closed().then(() => {
      this.#queue?.end();
      if (this.#rebalanceTimer !== null) clearTimeout(this.#rebalanceTimer);
      this.#rebalanceTimer = null;
    });
  }

  /**
   * Connects to the brokers at `addresses` — one address ("host:port", "tcp://host:port",
   * "tls://host:port") or an array of them, a host name standing for every address it resolves to
   * — and registers with each as a provider of `channelId` (a UUID string), with a share of
   * `concurrency` as its capacity. Resolves once registered with one; brokers that cannot be
   * reached yet are dialled in the background and served once they come up. With a `handler`,
   * every request is handed to it; without one, take requests from `requests()`. Rejects like
   * `Consumer.connect`: InvalidArgumentError (bad address list, id or option), or, when no broker
   * can be reached, the first one's ConnectError (CONNECT_FAILED), BrokerError (UNAUTHORIZED,
   * FORBIDDEN, BAD_REGISTRATION; DUPLICATE_CLIENT only from older brokers) or AbortedError.
   */
  static connect(addresses: string | readonly string[], channelId: string, handler: Handler, options?: ProviderOptions): Promise<Provider>;
  static connect(addresses: string | readonly string[], channelId: string, options?: ProviderOptions): Promise<Provider>;
  static async connect(
    addresses: string | readonly string[],
    channelId: string,
    handlerOrOptions?: Handler | ProviderOptions,
    options?: ProviderOptions,
  ): Promise<Provider> {
    const handler = typeof handlerOrOptions === "function" ? handlerOrOptions : null;
    const resolved = (typeof handlerOrOptions === "function" ? options : handlerOrOptions) ?? {};
    const provider = new Provider(addresses, channelId, handler, resolved);
    provider.#tracing = await loadTracing();
    await provider.#fleet.open();
    return provider;
  }

  /** "connecting" | "open" (while any broker is) | "reconnecting" (while none is) | "closing" | "closed". */
  get state(): ClientState {
    return this.#fleet.state;
  }

  /** This provider's id (UUID string) as the brokers know it. */
  get clientId(): string {
    return this.#fleet.options.clientId;
  }

  /**
   * The protocol version a connection negotiated with its broker (docs/protocol.md §1.5), of the
   * first connected broker in the fleet's order: `{ major: 1, minor: 1 }` with a broker that speaks
   * 1.1, 1.0 with an older one; null while none is connected.
   */
  get protocolVersion(): ProtocolVersion | null {
    return this.#fleet.current?.client.protocolVersion ?? null;
  }

  /** Status events (connected, disconnected, reconnecting of each broker, each naming its `server`; then closed); see BaseClient.status(). */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#fleet.status();
  }

  /** Resolves once closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#fleet.closed();
  }

  /** Requests received, every broker's connection state and capacity, reconnects and bytes each way (all brokers), now. */
  stats(): ProviderStats {
    const brokers: Record<string, ClientState> = {};
    const capacities: Record<string, number> = {};
    for (const link of this.#fleet.links) {
      brokers[link.key] = link.client.state;
      const capacity = this.#policy.capacityOf(link);
      if (capacity !== undefined) capacities[link.key] = capacity;
    }
    return { ...this.#fleet.connectionStats(), requests: this.#requests, brokers, capacities };
  }

  /** Requests received and not yet answered (being received, waiting, handled or answered), from every broker. */
  get inFlight(): number {
    let count = 0;
    for (const state of this.#links.values()) count += state.table.size;
    return count;
  }

  /**
   * The requests, for a provider connected without a handler: answer each with `req.respond(body)`
   * or `req.fail(error)`. At most `concurrency` are handed out and unanswered at once; the next
   * comes once one is answered. Requests cancelled before they are taken are skipped. Ends when
   * close() begins (after yielding what was already handed out). Leaving the loop stops serving:
   * requests not yet taken, and later ones, are answered SHUTTING_DOWN. One reader only.
   */
  requests(): AsyncIterableIterator<ProviderRequest> {
    if (this.#queue === null) throw new InvalidArgumentError("requests() is for a provider connected without a handler");
    return takeLive(this.#queue);
  }

  /**
   * Stops taking requests (new ones are answered SHUTTING_DOWN, requests() ends), lets those in
   * flight finish for up to `closeTimeout`, cancels what is left (its ctx.signal aborts with
   * CLOSED), then leaves every broker. Idempotent.
   */
  close(): Promise<void> {
    this.#closing = true;
    this.#queue?.end();
    return this.#fleet.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The provider's state of one broker's connection, made when the fleet first asks for it. */
  #linkState(link: FleetLink): ProviderLink {
    let state = this.#links.get(link);
    if (state !== undefined) return state;
    const client = (): BaseClient => link.client;
    const table = new RequestTable<InboundRequest>({
      index: new RequestIdTable<InboundRequest>(),
      // The safety net (see DEADLINE_GRACE_MS); cancel() ends the request, which deletes it.
      onExpire: (request) => request.cancel(new TimeoutError("the request's deadline passed before it was answered")),
    });
    const owner: RequestOwner = {
      logger: this.#fleet.options.logger,
      maxRequestBytes: this.#maxRequestBytes,
      get protocolVersion() {
        return client().protocolVersion;
      },
      finished: (request) => {
        table.delete(request);
        if (this.#policy.observe(link, table.size)) this.#scheduleRebalance();
        if (this.#waiting.size > 0) this.#waiting.delete(request);
        if (this.#handedOut.delete(request)) this.#release();
      },
    };
    state = { link, table, owner, registered: 0, ceiling: 0 };
    this.#links.set(link, state);
    return state;
  }

  /** A broker's connection registered (its capacity is the one it registered with) or was lost. */
  #onLinkStatus(state: ProviderLink, event: ClientStatus): void {
    if (event.type === "connected") {
      state.ceiling = state.registered;
      const adjustable = (state.link.client.protocolVersion?.minor ?? 0) >= CAPACITY_SINCE_MINOR;
      this.#policy.opened(state.link, state.registered, adjustable);
      this.#scheduleRebalance(); // a registration may have overshot what the others hold
    } else if (event.type === "disconnected" || event.type === "closed") {
      this.#policy.closed(state.link);
      this.#scheduleRebalance(); // its share is free for a busy one
    }
  }

  /** A rebalance within REBALANCE_INTERVAL_MS, unless one is already due: busy signals in between are one. */
  #scheduleRebalance(): void {
    if (this.#rebalanceTimer !== null || this.#policy.size < 2) return;
    this.#rebalanceTimer = setTimeout(() => {
      this.#rebalanceTimer = null;
      this.#rebalance();
    }, REBALANCE_INTERVAL_MS);
    this.#rebalanceTimer.unref();
  }

  /** Moves capacity by demand (CapacityPolicy) and tells each broker whose capacity changed, with CAPACITY (§1.21). */
  #rebalance(): void {
    if (this.#closing) return;
    for (const [link, capacity] of this.#policy.rebalance()) {
      const state = this.#links.get(link);
      const connection = link.client.connection;
      if (state === undefined || connection === null) continue; // lost meanwhile: the policy forgets it with its status event
      state.ceiling = Math.max(state.ceiling, capacity);
      connection.sendFrame(FrameType.CAPACITY, FrameFlags.NONE, CONNECTION_ID, encodeCapacity(capacity));
    }
  }

  #onFrame(state: ProviderLink, frame: Frame, route: BodyRoute): void {
    switch (frame.type) {
      case FrameType.START:
        this.#onStart(state, frame, route);
        return;
      case FrameType.CHUNK:
        state.table.get(frame.requestId)?.receive(frame.payload);
        return;
      case FrameType.END: {
        const request = state.table.get(frame.requestId);
        if (request?.complete()) this.#dispatch(request);
        return;
      }
      case FrameType.CANCEL:
        state.table.get(frame.requestId)?.cancel(new CancelledError("the consumer cancelled the request"));
        return;
      case FrameType.CREDIT:
        state.table.get(frame.requestId)?.credit(frame.payload);
        return;
      case FrameType.ERROR:
        this.#onError(state, frame);
        return;
      default:
        return; // nothing else is addressed to a provider
    }
  }

  /**
   * A request begins: routing header, request head (timeoutMs u32), body bytes. The header and the
   * timeout are read in place, and the requestId and routing header kept as views of the frame
   * (never modified, and the body — a view of the same bytes — keeps them alive anyway).
   */
  #onStart(state: ProviderLink, frame: Frame, route: BodyRoute): void {
    const payload = frame.payload;
    const logger = this.#fleet.options.logger;
    if (payload.length < START_BODY_OFFSET) {
      this.#malformedStart(frame, route.connection);
      return;
    }
    const routing = payload.subarray(0, ROUTING_HEADER_SIZE);
    const refusal = this.#refusal(state);
    if (refusal !== null) {
      route.connection.sendError(frame.requestId, refusal, routing);
      return;
    }
    // HEADERS means something only on a connection that negotiated 1.1 (docs/protocol.md §1.19)
    let bodyAt = START_BODY_OFFSET;
    let headers = NO_HEADERS;
    if ((frame.flags & FrameFlags.HEADERS) !== 0 && (state.link.client.protocolVersion?.minor ?? 0) >= HEADERS_SINCE_MINOR) {
      try {
        const block = decodeHeaderBlock(payload, START_BODY_OFFSET);
        headers = block.headers;
        bodyAt += block.length;
      } catch (error) {
        logger.warn({ error: (error as Error).message }, "refused a request with a malformed header block");
        route.connection.sendError(frame.requestId, error as BrokerError, routing);
        return;
      }
    }
    const timeoutMs = payload.readUInt32BE(ROUTING_HEADER_SIZE);
    const request = new InboundRequest(state.owner, route, frame.requestId, routing, timeoutMs, headers);
    if (!state.table.add(request, safetyNetTimeout(timeoutMs))) {
      logger.warn({ requestId: request.requestId }, "ignored a START for a request already in flight");
      return;
    }
    this.#requests++;
    if (this.#policy.observe(state.link, state.table.size)) this.#scheduleRebalance();
    const body = payload.subarray(bodyAt);
    if (this.#tracing?.active === true) request.trace(this.#tracing, body.length);
    const final = (frame.flags & FrameFlags.FINAL) !== 0;
    const mode = this.#modeOf(request);
    // a header block counts against a streamed body's credit as body bytes (docs/protocol.md §1.20)
    if (!final && mode !== null && bodyAt > START_BODY_OFFSET) request.receivedHeaderBlock(bodyAt - START_BODY_OFFSET);
    if (mode === "stream") {
      // Handled from its START; its body follows into ctx.body as it arrives.
      request.streamBody();
      this.#dispatch(request);
      request.receive(body);
      if (final) request.complete();
    } else if (mode === "buffer") {
      if (!final) request.receive(body);
      else if (request.receiveWhole(body)) this.#dispatch(request);
    }
  }

  /**
   * The body mode of a request that begins: the provider's, or what its requestBody function says.
   * A function that throws or answers something else fails the request (HANDLER_ERROR, the
   * function being the provider's own code): null then.
   */
  #modeOf(request: InboundRequest): RequestBodyMode | null {
    const choose = this.#requestBody;
    if (typeof choose === "string") return choose;
    let mode: unknown;
    try {
      mode = choose(request);
    } catch (error) {
      void request.fail(error);
      return null;
    }
    if (mode === "buffer" || mode === "stream") return mode;
    void request.fail(new InvalidArgumentError(`requestBody must answer "buffer" or "stream", got ${String(mode)}`));
    return null;
  }

  /** Why a new request cannot be taken on this connection now, or null. */
  #refusal(state: ProviderLink): BrokerError | null {
    if (this.#closing || state.link.client.state !== "open" || this.#queue?.ended === true) {
      return new BrokerError("SHUTTING_DOWN", "the provider is closing and takes no new requests");
    }
    if (state.table.size >= state.ceiling) {
      return new BrokerError("OVERLOADED", `the provider is at the capacity it declared to this broker (${state.ceiling})`);
    }
    return null;
  }

  /** A START too short for its routing header and request head: PROTOCOL_ERROR, if it can be routed back. */
  #malformedStart(frame: Frame, connection: ConnectionContext): void {
    const error = new ProtocolError(`request START payload of ${frame.payload.length} bytes is shorter than its routing header and request head (${START_BODY_OFFSET} bytes)`);
    this.#fleet.options.logger.warn({ error: error.message }, "received a malformed request START");
    if (frame.payload.length >= ROUTING_HEADER_SIZE) {
      connection.sendError(frame.requestId, error, frame.payload.subarray(0, ROUTING_HEADER_SIZE));
    }
  }

  /** A request was received whole: it takes a slot, or waits for one. */
  #dispatch(request: InboundRequest): void {
    if (this.#active < this.#concurrency) this.#admit(request);
    else this.#waiting.add(request);
  }

  /** A request takes one of the `concurrency` slots: its handler runs, or requests() hands it out. */
  #admit(request: InboundRequest): void {
    this.#active++;
    if (this.#handler !== null) {
      void this.#run(this.#handler, request);
      return;
    }
    this.#handedOut.add(request);
    if (!this.#queue!.push(request)) void request.fail(new BrokerError("SHUTTING_DOWN", "the provider stopped taking requests"));
  }

  /** A slot is free: the oldest waiting request takes it. */
  #release(): void {
    this.#active--;
    if (this.#waiting.size === 0) return;
    for (const request of this.#waiting) {
      this.#waiting.delete(request);
      this.#admit(request);
      return;
    }
  }

  /**
   * Runs the handler and answers; respond() and fail() never reject. The handler holds its slot
   * until its answer is queued (a streamed one too: the stream may be the handler's work).
   */
  async #run(handler: Handler, request: InboundRequest): Promise<void> {
    try {
      const answer = request.spanContext === null ? handler(request.payload, request) : this.#tracing!.within(request.spanContext, () => handler(request.payload, request));
      await request.respond(await answer);
    } catch (error) {
      void request.fail(error);
    } finally {
      this.#release();
    }
  }

  /**
   * An ERROR from the broker about one of our requests. BAD_ROUTE: an answer of ours arrived after
   * the request had ended there — logged, nothing to do. Anything else ends the request here too.
   */
  #onError(state: ProviderLink, frame: Frame): void {
    const error = errorFromPayload(frame.payload);
    const request = state.table.get(frame.requestId);
    if (error.code === "BAD_ROUTE" || request === undefined) {
      this.#fleet.options.logger.warn({ code: error.code, message: error.message }, "the broker refused an answer of this provider");
      return;
    }
    request.cancel(error.code === "CANCELLED" ? new CancelledError(error.message || "the consumer cancelled the request") : error);
  }

  /** The reader left requests(): what it did not take is answered SHUTTING_DOWN. */
  #refuseUntaken(): void {
    for (const state of this.#links.values()) {
      for (const request of state.table.values()) {
        if (!request.taken) void request.fail(new BrokerError("SHUTTING_DOWN", "the provider stopped taking requests"));
      }
    }
  }

  /** One broker's connection was lost or closed: its requests end with `reason`. */
  #cancelAll(state: ProviderLink, reason: Error): void {
    for (const request of state.table.values()) request.cancel(reason);
  }
}

/** Yields the queue's requests that are still live, marking each as taken. */
async function* takeLive(queue: AsyncQueue<InboundRequest>): AsyncGenerator<InboundRequest> {
  for await (const request of queue) {
    if (request.cancelled) continue;
    request.taken = true;
    yield request;
  }
}

/** The requestBody option, checked: a mode, or a function that picks one per request. Default "buffer". */
function requestBodyOption(value: ProviderOptions["requestBody"]): RequestBodyMode | ((ctx: RequestContext) => RequestBodyMode) {
  if (value === undefined) return "buffer";
  if (value === "buffer" || value === "stream" || typeof value === "function") return value;
  throw new InvalidArgumentError(`requestBody must be "buffer", "stream" or a function that answers one of them, got ${JSON.stringify(value)}`);
}

/** When the safety net gives up on a request whose deadline is `timeoutMs` away (0: it has none, and neither does the net). */
function safetyNetTimeout(timeoutMs: number): number {
  return timeoutMs === 0 ? 0 : Math.ceil((timeoutMs + DEADLINE_GRACE_MS) / SAFETY_NET_STEP_MS) * SAFETY_NET_STEP_MS;
}
