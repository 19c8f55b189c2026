import {
  type ProtocolVersion,
  BrokerError,
  decodeHeaderBlock,
  HEADERS_SINCE_MINOR,
  NO_HEADERS,
  CancelledError,
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
  BaseClient,
  type BodyRoute,
  type ConnectionContext,
  errorFromPayload,
  numberOption,
  RequestIdTable,
  RequestTable,
  loadTracing,
  type Tracing,
} from "@switchyard/transport/internal";
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
/** Where a request START's body begins: after the routing header and the request head. */
const START_BODY_OFFSET = ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE;

/** A provider's counters, from `stats()`: a plain snapshot. */
export interface ProviderStats extends ClientTransportStats {
  /** Requests received (accepted into its table) since start. */
  requests: number;
}

/**
 * Serves the requests of one channel that a Switchyard broker routes to it: either through a
 * handler, or through `requests()` when connected without one. It declares its `concurrency` to
 * the broker, which never routes more at once; the table of requests in flight is bounded by it.
 * With a handler, `concurrency` also bounds the handlers running: a handler that ignores
 * `ctx.signal` after a cancel keeps its slot until it returns, and a request the broker routes
 * meanwhile waits here for a free slot (its deadline running; cancelled, it leaves at once).
 *
 * After the broker goes away the provider reconnects and registers again; handlers still running
 * for the lost connection see `ctx.signal` abort with DISCONNECTED (their answers could not be
 * delivered: the broker has answered those consumers PROVIDER_GONE).
 */
export class Provider {
  #requests = 0;
  readonly #client: BaseClient;
  readonly #handler: Handler | null;
  readonly #concurrency: number;
  readonly #maxRequestBytes: number;
  /** requestBody: a mode for every request, or the function that picks one per request. */
  readonly #requestBody: RequestBodyMode | ((ctx: RequestContext) => RequestBodyMode);
  /** Requests in flight by the requestId the broker gave them (any 16 bytes: no key string made per request). */
  readonly #table = new RequestTable<InboundRequest>({
    index: new RequestIdTable<InboundRequest>(),
    // The safety net (see DEADLINE_GRACE_MS); cancel() ends the request, which deletes it.
    onExpire: (request) => request.cancel(new TimeoutError("the request's deadline passed before it was answered")),
  });
  /** Handlerless mode: requests waiting to be taken through requests(). Bounded by concurrency. */
  readonly #queue: AsyncQueue<InboundRequest> | null;
  /**
   * Handler mode: handlers running now, each counted until its answer is queued (or it was
   * cancelled and it returned), so never more than `concurrency`. A cancelled request leaves the
   * table at once — the broker has already given its consumer an outcome and frees the slot — but a
   * handler deaf to ctx.signal keeps running and keeps its place here.
   */
  #running = 0;
  /**
   * Handler mode: requests received whole while `concurrency` handlers were running (the broker
   * routed them into slots it freed on CANCEL), in arrival order. They are in the table, so there
   * are fewer than `concurrency`; one that is cancelled while it waits leaves at once.
   */
  readonly #waiting = new Set<InboundRequest>();
  readonly #owner: RequestOwner;
  /** OpenTelemetry spans, when @opentelemetry/api is installed (set at connect); null: none, at no cost. */
  #tracing: Tracing | null = null;

  private constructor(address: string, channelId: string, handler: Handler | null, options: ProviderOptions) {
    this.#handler = handler;
    this.#concurrency = numberOption("concurrency", options.concurrency, DEFAULT_CONCURRENCY, { min: 1, max: MAX_TIMEOUT_MS });
    this.#maxRequestBytes = numberOption("maxRequestBytes", options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, { min: 0 });
    this.#requestBody = requestBodyOption(options.requestBody);
    this.#queue = handler === null ? new AsyncQueue<InboundRequest>(() => this.#refuseUntaken()) : null;
    this.#client = new BaseClient(
      address,
      { role: Role.PROVIDER, channelId, capacity: this.#concurrency },
      {
        onFrame: (frame, route) => this.#onFrame(frame, route),
        onDisconnect: (error) => this.#cancelAll(error),
        onClosing: () => this.#queue?.end(),
        whenIdle: () => this.#table.whenEmpty(),
        onClose: (error) => {
          this.#queue?.end();
          this.#cancelAll(error);
        },
      },
      options,
    );
    const client = this.#client;
    this.#owner = {
      logger: this.#client.options.logger,
      maxRequestBytes: this.#maxRequestBytes,
      get protocolVersion() {
        return client.protocolVersion;
      },
      finished: (request) => {
        this.#table.delete(request);
        if (this.#waiting.size > 0) this.#waiting.delete(request);
      },
    };
  }

  /**
   * Connects to the broker at `address` ("host:port") and registers as a provider of `channelId`
   * (a UUID string) with capacity `concurrency`. With a `handler`, every request is handed to it;
   * without one, take requests from `requests()`. Rejects like `Consumer.connect`: InvalidArgumentError,
   * ConnectError (CONNECT_FAILED), BrokerError (UNAUTHORIZED, FORBIDDEN, BAD_REGISTRATION; DUPLICATE_CLIENT only from older brokers),
   * AbortedError.
   */
  static connect(address: string, channelId: string, handler: Handler, options?: ProviderOptions): Promise<Provider>;
  static connect(address: string, channelId: string, options?: ProviderOptions): Promise<Provider>;
  static async connect(
    address: string,
    channelId: string,
    handlerOrOptions?: Handler | ProviderOptions,
    options?: ProviderOptions,
  ): Promise<Provider> {
    const handler = typeof handlerOrOptions === "function" ? handlerOrOptions : null;
    const resolved = (typeof handlerOrOptions === "function" ? options : handlerOrOptions) ?? {};
    const provider = new Provider(address, channelId, handler, resolved);
    provider.#tracing = await loadTracing();
    await provider.#client.open();
    return provider;
  }

  /** "connecting" | "open" | "reconnecting" | "closing" | "closed". */
  get state(): ClientState {
    return this.#client.state;
  }

  /** This provider's id (UUID string) as the broker knows it. */
  get clientId(): string {
    return this.#client.clientId;
  }

  /**
   * The protocol version its connection negotiated with the broker (docs/protocol.md §1.5):
   * `{ major: 1, minor: 1 }` with a broker that speaks 1.1, 1.0 with an older one; null while not
   * connected.
   */
  get protocolVersion(): ProtocolVersion | null {
    return this.#client.protocolVersion;
  }

  /** Status events (connected, disconnected, reconnecting, closed); see BaseClient.status(). */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#client.status();
  }

  /** Resolves once closed: undefined after close(), the reason if it closed itself. */
  closed(): Promise<Error | undefined> {
    return this.#client.closed();
  }

  /** Requests received, reconnects, bytes each way and the server id, now. */
  stats(): ProviderStats {
    return { ...this.#client.connectionStats(), requests: this.#requests };
  }

  /** Requests received and not yet answered (being received, handled or answered). */
  get inFlight(): number {
    return this.#table.size;
  }

  /**
   * The requests, for a provider connected without a handler: answer each with `req.respond(body)`
   * or `req.fail(error)`. Requests cancelled before they are taken are skipped. Ends when close()
   * begins (after yielding what was already received). Leaving the loop stops serving: requests
   * not yet taken, and later ones, are answered SHUTTING_DOWN. One reader only.
   */
  requests(): AsyncIterableIterator<ProviderRequest> {
    if (this.#queue === null) throw new InvalidArgumentError("requests() is for a provider connected without a handler");
    return takeLive(this.#queue);
  }

  /**
   * Stops taking requests (new ones are answered SHUTTING_DOWN, requests() ends), lets those in
   * flight finish for up to `closeTimeout`, cancels what is left (its ctx.signal aborts with
   * CLOSED), then leaves. Idempotent.
   */
  close(): Promise<void> {
    return this.#client.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onFrame(frame: Frame, route: BodyRoute): void {
    switch (frame.type) {
      case FrameType.START:
        this.#onStart(frame, route);
        return;
      case FrameType.CHUNK:
        this.#table.get(frame.requestId)?.receive(frame.payload);
        return;
      case FrameType.END: {
        const request = this.#table.get(frame.requestId);
        if (request?.complete()) this.#dispatch(request);
        return;
      }
      case FrameType.CANCEL:
        this.#table.get(frame.requestId)?.cancel(new CancelledError("the consumer cancelled the request"));
        return;
      case FrameType.ERROR:
        this.#onError(frame);
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
  #onStart(frame: Frame, route: BodyRoute): void {
    const payload = frame.payload;
    if (payload.length < START_BODY_OFFSET) {
      this.#malformedStart(frame, route.connection);
      return;
    }
    const routing = payload.subarray(0, ROUTING_HEADER_SIZE);
    const refusal = this.#refusal();
    if (refusal !== null) {
      route.connection.sendError(frame.requestId, refusal, routing);
      return;
    }
    // HEADERS means something only on a connection that negotiated 1.1 (docs/protocol.md §1.19)
    let bodyAt = START_BODY_OFFSET;
    let headers = NO_HEADERS;
    if ((frame.flags & FrameFlags.HEADERS) !== 0 && (this.#client.protocolVersion?.minor ?? 0) >= HEADERS_SINCE_MINOR) {
      try {
        const block = decodeHeaderBlock(payload, START_BODY_OFFSET);
        headers = block.headers;
        bodyAt += block.length;
      } catch (error) {
        this.#client.options.logger.warn({ error: (error as Error).message }, "refused a request with a malformed header block");
        route.connection.sendError(frame.requestId, error as BrokerError, routing);
        return;
      }
    }
    const timeoutMs = payload.readUInt32BE(ROUTING_HEADER_SIZE);
    const request = new InboundRequest(this.#owner, route, frame.requestId, routing, timeoutMs, headers);
    if (!this.#table.add(request, safetyNetTimeout(timeoutMs))) {
      this.#client.options.logger.warn({ requestId: request.requestId }, "ignored a START for a request already in flight");
      return;
    }
    this.#requests++;
    const body = payload.subarray(bodyAt);
    if (this.#tracing?.active === true) request.trace(this.#tracing, body.length);
    const final = (frame.flags & FrameFlags.FINAL) !== 0;
    const mode = this.#modeOf(request);
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

  /** Why a new request cannot be taken now, or null. */
  #refusal(): BrokerError | null {
    if (this.#client.state !== "open" || this.#queue?.ended === true) {
      return new BrokerError("SHUTTING_DOWN", "the provider is closing and takes no new requests");
    }
    if (this.#table.size >= this.#concurrency) {
      return new BrokerError("OVERLOADED", `the provider is at its declared concurrency (${this.#concurrency})`);
    }
    return null;
  }

  /** A START too short for its routing header and request head: PROTOCOL_ERROR, if it can be routed back. */
  #malformedStart(frame: Frame, connection: ConnectionContext): void {
    const error = new ProtocolError(`request START payload of ${frame.payload.length} bytes is shorter than its routing header and request head (${START_BODY_OFFSET} bytes)`);
    this.#client.options.logger.warn({ error: error.message }, "received a malformed request START");
    if (frame.payload.length >= ROUTING_HEADER_SIZE) {
      connection.sendError(frame.requestId, error, frame.payload.subarray(0, ROUTING_HEADER_SIZE));
    }
  }

  #dispatch(request: InboundRequest): void {
    if (this.#handler !== null) {
      if (this.#running < this.#concurrency) void this.#run(this.#handler, request);
      else this.#waiting.add(request);
      return;
    }
    if (!this.#queue!.push(request)) void request.fail(new BrokerError("SHUTTING_DOWN", "the provider stopped taking requests"));
  }

  /**
   * Runs the handler and answers; respond() and fail() never reject. The handler counts as running
   * until its answer is queued (a streamed one too: the stream may be the handler's work), then the
   * oldest waiting request takes its place.
   */
  async #run(handler: Handler, request: InboundRequest): Promise<void> {
    this.#running++;
    try {
      const answer = request.spanContext === null ? handler(request.payload, request) : this.#tracing!.within(request.spanContext, () => handler(request.payload, request));
      await request.respond(await answer);
    } catch (error) {
      void request.fail(error);
    } finally {
      this.#running--;
      this.#runNext(handler);
    }
  }

  /** A handler returned: the oldest waiting request, if any, runs now. */
  #runNext(handler: Handler): void {
    if (this.#waiting.size === 0) return;
    for (const request of this.#waiting) {
      this.#waiting.delete(request);
      void this.#run(handler, request);
      return;
    }
  }

  /**
   * An ERROR from the broker about one of our requests. BAD_ROUTE: an answer of ours arrived after
   * the request had ended there — logged, nothing to do. Anything else ends the request here too.
   */
  #onError(frame: Frame): void {
    const error = errorFromPayload(frame.payload);
    const request = this.#table.get(frame.requestId);
    if (error.code === "BAD_ROUTE" || request === undefined) {
      this.#client.options.logger.warn({ code: error.code, message: error.message }, "the broker refused an answer of this provider");
      return;
    }
    request.cancel(error.code === "CANCELLED" ? new CancelledError(error.message || "the consumer cancelled the request") : error);
  }

  /** The reader left requests(): what it did not take is answered SHUTTING_DOWN. */
  #refuseUntaken(): void {
    for (const request of this.#table.values()) {
      if (!request.taken) void request.fail(new BrokerError("SHUTTING_DOWN", "the provider stopped taking requests"));
    }
  }

  #cancelAll(reason: Error): void {
    for (const request of this.#table.values()) request.cancel(reason);
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
