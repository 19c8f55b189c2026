import {
  type ProtocolVersion,
  BrokerError,
  decodeHeaderBlock,
  encodeHeaderBlock,
  encodeRequestHead,
  formatVersion,
  HEADERS_SINCE_MINOR,
  type Headers,
  idToString,
  InvalidArgumentError,
  NO_HEADERS,
  REQUEST_HEAD_SIZE,
  ROUTING_HEADER_SIZE,
  type Frame,
  FrameFlags,
  FrameType,
  MAX_TIMEOUT_MS,
  newId,
  Role,
  TimeoutError,
} from "@switchyard/protocol";
import {
  AbortedError,
  type Body,
  type BodyStream,
  ClientClosedError,
  type ClientState,
  type ClientStatus,
  type ClientTransportStats,
  DisconnectedError,
} from "@switchyard/transport";
import {
  AsyncQueue,
  type ConnectionContext,
  Fleet,
  type FleetLink,
  errorFromPayload,
  type NumberBounds,
  numberOption,
  RequestIds,
  RequestTable,
  refusal,
  checkBody,
  sendBody,
  type Issued,
  InboundWindow,
  applyCredit,
  type TableItem,
  loadTracing,
  type RequestSpan,
  type Tracing,
} from "@switchyard/transport/internal";
import { type ConsumerOptions, type Reply, resolveMaxResponseBytes, type SendOptions } from "./consumer-options.js";
import { ResponseBuffer, type ResponseSink } from "./response-buffer.js";

/** What a per-request timeout may be, ms. */
const TIMEOUT_BOUNDS: NumberBounds = { min: 1, max: MAX_TIMEOUT_MS, integer: false };

/** A request in flight: from send() until its one outcome. Its slot and generation (RequestIds) make its requestId. */
interface PendingRequest extends TableItem, Issued {
  /** The broker it was sent through. */
  readonly link: FleetLink;
  /** The connection it was sent on: a CANCEL goes there, never to a newer one. */
  readonly connection: ConnectionContext;
  /**
   * Its body while it may be sent again through another broker (send()'s, held in memory, not yet
   * retried): after NO_PROVIDER, or DISCONNECTED when `idempotent`. Null otherwise.
   */
  readonly resend: string | Uint8Array | null;
  /** Its send options, for a retry. */
  readonly options: number | SendOptions | undefined;
  readonly sink: ResponseSink;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
  /** Set while the body is still streaming out. */
  body: BodyStream | null;
  /** Response bytes received so far. */
  received: number;
  /**
   * The response's flow control (1.1, docs/protocol.md §1.20), made at RESPONSE_START on a
   * connection that has it: credit goes back to the broker as the bytes are consumed — at once
   * when assembled, as the reader takes them in stream().
   */
  window: InboundWindow | null;
  /** stream() on a flow-controlled connection: the response is not limited by maxResponseBytes (the reader paces it). */
  paced: boolean;
  /** The headers of the response, once it began with some. */
  responseHeaders: Headers;
  /** Its `send <channel>` span, when tracing. */
  span: RequestSpan | null;
}

/** A consumer's counters, from `stats()`: a plain snapshot. */
export interface ConsumerStats extends ClientTransportStats {
  /** Requests sent since start. */
  requests: number;
  /** Sent requests that failed, by error code (TIMEOUT, NO_PROVIDER, DISCONNECTED, …), since start. */
  errors: Record<string, number>;
  /** Requests sent again through another broker (after NO_PROVIDER, or DISCONNECTED with `idempotent`), since start. */
  retries: number;
  /** The broker new requests go to ("host:port" as dialled), or null while none is connected. */
  broker: string | null;
  /** Every broker of its list (as dialled) and the state of its connection there. */
  brokers: Record<string, ClientState>;
}

/**
 * Sends requests to the providers of one channel through a Switchyard broker and awaits their
 * responses. Many requests share one connection; each ends in exactly one outcome — its response,
 * the broker's or provider's error, TIMEOUT, ABORTED, DISCONNECTED or CLOSED.
 *
 * Given a fleet of brokers (several addresses, or a name that resolves to several), it connects
 * to every one and sends through one at a time: the live broker this consumer's id ranks first
 * (rendezvous hashing, so consumers spread evenly and move only when their broker is lost or comes
 * back). When that broker is lost, requests in flight on it fail at once with DISCONNECTED (or,
 * sent with `idempotent`, go once more through the next broker) and later sends go to the next
 * live broker at once; a NO_PROVIDER from one broker is tried once on another. When the first
 * choice returns, new sends go back to it while those in flight finish where they are.
 *
 * While no broker is connected the consumer reconnects in the background, and sends fail fast
 * with DISCONNECTED (they do not wait): a caller that wants to ride out a restart retries.
 */
export class Consumer {
  readonly #fleet: Fleet;
  readonly #channelId: string;
  /** OpenTelemetry spans, when @opentelemetry/api is installed (set at connect); null: none, at no cost. */
  #tracing: Tracing | null = null;
  readonly #maxResponseBytes: number;
  /** Request ids (a random prefix per consumer, a slot, a counter), and the requests by slot. */
  readonly #ids = new RequestIds<PendingRequest>(newId());
  readonly #table = new RequestTable<PendingRequest>({
    index: this.#ids,
    onExpire: (request) => this.#settle(request, new TimeoutError(`request timed out after ${request.timeoutMs} ms`), true),
  });
  /** The request head last encoded, and its timeout: most requests share one timeout. */
  #head: Buffer | null = null;
  #headTimeoutMs = 0;
  #requests = 0;
  #retries = 0;
  readonly #errors: Record<string, number> = {};

  private constructor(addresses: string | readonly string[], channelId: string, options: ConsumerOptions) {
    this.#maxResponseBytes = resolveMaxResponseBytes(options);
    this.#channelId = channelId;
    this.#fleet = new Fleet(
      addresses,
      { role: Role.CONSUMER, channelId },
      (link) => ({
        onFrame: (frame) => this.#onFrame(frame),
        onDisconnect: (error) => this.#failOn(link, error, false),
        onClosing: () => {}, // send() checks the state: nothing else to stop
        whenIdle: () => this.#table.whenEmpty(),
        onClose: (error) => this.#failOn(link, error, true),
      }),
      options,
    );
  }

  /**
   * Connects to the broker at `addresses` — one address ("host:port", "tcp://host:port",
   * "tls://host:port") or an array of them, a host name standing for every address it resolves to
   * — and registers as a consumer of `channelId` (a UUID string) with each. Resolves once
   * registered with one; brokers that cannot be reached yet are dialled in the background. Rejects
   * with InvalidArgumentError (bad address list, id or option), or, when no broker can be reached,
   * the first one's ConnectError (CONNECT_FAILED), BrokerError (UNAUTHORIZED, FORBIDDEN,
   * BAD_REGISTRATION; DUPLICATE_CLIENT only from older brokers) or AbortedError (options.signal).
   */
  static async connect(addresses: string | readonly string[], channelId: string, options: ConsumerOptions = {}): Promise<Consumer> {
    const consumer = new Consumer(addresses, channelId, options);
    consumer.#tracing = await loadTracing();
    await consumer.#fleet.open();
    return consumer;
  }

  /** "connecting" | "open" | "reconnecting" | "closing" | "closed". */
  get state(): ClientState {
    return this.#fleet.state;
  }

  /** This consumer's id (UUID string) as the brokers know it. */
  get clientId(): string {
    return this.#fleet.options.clientId;
  }

  /**
   * The protocol version its connection to the broker it uses negotiated (docs/protocol.md §1.5):
   * `{ major: 1, minor: 1 }` with a broker that speaks 1.1, 1.0 with an older one; null while not
   * connected.
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

  /** Requests sent, failures by code, retries, the broker in use and every connection's state, reconnects and bytes each way (all brokers), now. */
  stats(): ConsumerStats {
    const broker = this.#fleet.current?.key ?? null;
    const brokers: Record<string, ClientState> = {};
    for (const link of this.#fleet.links) brokers[link.key] = link.client.state;
    return { ...this.#fleet.connectionStats(), requests: this.#requests, errors: { ...this.#errors }, retries: this.#retries, broker, brokers };
  }

  /** Requests sent and not yet settled. */
  get inFlight(): number {
    return this.#table.size;
  }

  /**
   * Sends a request and resolves with the whole response body. `body` is text (UTF-8), bytes, a
   * Readable or any AsyncIterable of chunks; what fits one frame goes as one frame, the rest
   * streams in 1 MiB chunks without being read into memory first. `options` is the timeout in ms,
   * or `{ timeout, signal }`.
   *
   * Rejects with BrokerError (NO_PROVIDER, TIMEOUT from the broker, PROVIDER_GONE, OVERLOADED,
   * HANDLER_ERROR with the handler's message, PAYLOAD_TOO_LARGE, SHUTTING_DOWN, …),
   * TimeoutError (TIMEOUT here; CANCEL sent), AbortedError (ABORTED, `cause` = the signal's
   * reason; CANCEL sent), DisconnectedError, ClientClosedError, InvalidArgumentError, or the body
   * stream's own error.
   */
  send(body: Body, options?: number | SendOptions): Promise<Buffer> {
    const sink = new ResponseBuffer();
    try {
      const idempotent = typeof options === "object" && options.idempotent === true;
      if (idempotent && !inMemory(body)) {
        throw new InvalidArgumentError("idempotent needs a body held in memory (a string or bytes): a stream cannot be sent a second time");
      }
      this.#start(body, this.#timeoutOf(options), options, sink, this.#fleet.current, inMemory(body) ? body : null);
    } catch (error) {
      sink.fail(error as Error);
    }
    return sink.promise;
  }

  /**
   * Sends a request like send() and resolves with the whole response body and the headers the
   * provider answered with (`{ body, headers }`; headers empty when it sent none). Rejects as
   * send() does.
   */
  request(body: Body, options?: number | SendOptions): Promise<Reply> {
    const sink = new ResponseBuffer();
    let request: PendingRequest | null = null;
    try {
      request = this.#start(body, this.#timeoutOf(options), options, sink, this.#fleet.current, null);
    } catch (error) {
      sink.fail(error as Error);
    }
    return sink.promise.then((bytes) => ({ body: bytes, headers: request?.responseHeaders ?? NO_HEADERS }));
  }

  /**
   * Sends a request like send() and yields the response as it arrives, chunk by chunk, for
   * responses of any size. With a broker that speaks 1.1 the response is flow-controlled
   * (docs/protocol.md §1.20): credit goes back as the reader takes chunks, so a reader that stops
   * stops the provider's stream (and nothing else), and no more than one stream window (4 MiB)
   * waits here unread; the size is then unlimited. With a 1.0 broker, chunks not yet taken are
   * buffered and the total is bounded by maxResponseBytes like send()'s (beyond it the iterator
   * throws PAYLOAD_TOO_LARGE and CANCEL is sent). The timeout covers the whole response. Leaving
   * the loop early (break, throw) cancels the request. Errors are thrown by the iterator.
   */
  stream(body: Body, options?: number | SendOptions): AsyncIterableIterator<Buffer> {
    let request: PendingRequest | null = null;
    const chunks = new AsyncQueue<Buffer>(
      () => {
        if (request !== null) this.#settle(request, new AbortedError("the reader stopped reading the response"), true);
      },
      (chunk) => request?.window?.consumed(chunk.length),
    );
    try {
      request = this.#start(body, this.#timeoutOf(options), options, chunks, this.#fleet.current, null);
      if (request !== null) request.paced = request.link.client.route?.receiveWindow != null;
    } catch (error) {
      chunks.fail(error);
    }
    return chunks;
  }

  /**
   * Stops taking requests (sends now fail with CLOSED), waits up to `closeTimeout` for those in
   * flight, fails what is left with CLOSED (sending CANCEL), and closes the connection.
   * Idempotent.
   */
  close(): Promise<void> {
    return this.#fleet.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Registers and sends a request through `link`; every failure goes to `sink`. Returns the entry,
   * or null. Bad headers throw (InvalidArgumentError) before anything is sent. `resend` is the body
   * if it may be sent again; `retry` says it is being sent again.
   */
  #start(
    body: Body,
    timeoutMs: number,
    options: number | SendOptions | undefined,
    sink: ResponseSink,
    link: FleetLink | null,
    resend: string | Uint8Array | null,
    retry = false,
  ): PendingRequest | null {
    checkBody(body, "the request body");
    const route = link?.client.route ?? null;
    if (this.#fleet.state !== "open" || route === null) {
      sink.fail(this.#notOpen());
      return null;
    }
    const signal = signalOf(options);
    let headers = typeof options === "object" ? options.headers : undefined;
    const connection = route.connection;
    if (signal?.aborted) {
      sink.fail(abortedBy(signal));
      return null;
    }
    let span: RequestSpan | null = null;
    if (this.#tracing?.active === true) {
      span = this.#tracing.startSend(this.#channelId, this.#fleet.options.clientId, typeof body === "string" ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : undefined);
      if ((link!.client.protocolVersion?.minor ?? 0) >= HEADERS_SINCE_MINOR) headers = this.#traced(span, headers);
    }
    let prefix = this.#headFor(timeoutMs);
    if (headers !== undefined) {
      let withHeaders: Buffer | BrokerError;
      try {
        withHeaders = this.#headWithHeaders(prefix, headers, route.maxPayload, link!.client.protocolVersion);
      } catch (error) {
        if (span !== null) this.#tracing!.end(span, error as Error);
        throw error;
      }
      if (withHeaders instanceof Error) {
        if (span !== null) this.#tracing!.end(span, withHeaders);
        sink.fail(withHeaders);
        return null;
      }
      prefix = withHeaders;
    }
    const request: PendingRequest = {
      slot: -1,
      generation: 0,
      link: link!,
      connection,
      resend,
      options,
      sink,
      timeoutMs,
      signal,
      onAbort: null,
      body: null,
      received: 0,
      window: null,
      paced: false,
      responseHeaders: NO_HEADERS,
      span,
      deadline: null,
    };
    this.#table.add(request, timeoutMs);
    if (span !== null) this.#tracing!.setMessageId(span, idToString(this.#ids.bytes(request)));
    if (!retry) this.#requests++;
    if (signal !== undefined) {
      request.onAbort = () => this.#settle(request, abortedBy(signal), true);
      signal.addEventListener("abort", request.onAbort, { once: true });
    }
    const sent = sendBody(route, this.#ids.bytes(request), prefix, body, headers === undefined ? FrameFlags.NONE : FrameFlags.HEADERS);
    if (sent === false) this.#settle(request, refusal(connection), false);
    else if (sent !== true) {
      request.body = sent;
      sent.done.catch((error: Error) => this.#settle(request, error, true));
    }
    return request;
  }

  /** A call's timeout, whole ms. Throws InvalidArgumentError for a bad one. */
  #timeoutOf(options: number | SendOptions | undefined): number {
    const given = typeof options === "object" ? options.timeout : options;
    return Math.ceil(numberOption("timeout", given, this.#fleet.options.timeout, TIMEOUT_BOUNDS));
  }

  /** The request head for `timeoutMs`; a new one only when the timeout changes (a head is never modified). */
  #headFor(timeoutMs: number): Buffer {
    if (this.#head === null || this.#headTimeoutMs !== timeoutMs) {
      this.#head = encodeRequestHead(timeoutMs);
      this.#headTimeoutMs = timeoutMs;
    }
    return this.#head;
  }

  /** `headers` with the span's trace context, or as they were when the propagator adds nothing. */
  #traced(span: RequestSpan, headers: Headers | undefined): Headers | undefined {
    const carried = this.#tracing!.inject(span, headers);
    return Object.keys(carried).length > 0 ? carried : headers;
  }

  /**
   * The request head followed by the header block of `headers` (HEADERS is then set on the
   * START), or NOT_SUPPORTED when the broker speaks 1.0. Throws InvalidArgumentError for headers
   * the protocol cannot carry, and for a block that would not fit the START the broker forwards.
   */
  #headWithHeaders(head: Buffer, headers: Headers, maxPayload: number, version: ProtocolVersion | null): Buffer | BrokerError {
    const block = encodeHeaderBlock(headers);
    if (version === null || version.minor < HEADERS_SINCE_MINOR) {
      return new BrokerError("NOT_SUPPORTED", `the broker speaks protocol ${version === null ? "1.0" : formatVersion(version)}, which has no headers: send without headers, or upgrade the broker to 1.1`);
    }
    if (ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE + block.length > maxPayload) {
      throw new InvalidArgumentError(`the headers take ${block.length} bytes encoded, more than one frame of the broker's ${maxPayload} bytes can carry`);
    }
    return Buffer.concat([head, block]);
  }

  #notOpen(): Error {
    const state = this.#fleet.state;
    if (state === "closing" || state === "closed") return new ClientClosedError(`the consumer is ${state}`);
    return new DisconnectedError(`not connected to any broker (${state}); the request was not sent`);
  }

  #onFrame(frame: Frame): void {
    const request = this.#ids.find(frame.requestId);
    if (request === undefined) return; // a late frame for a settled request, or not an id of ours
    switch (frame.type) {
      case FrameType.RESPONSE: {
        const body = (frame.flags & FrameFlags.HEADERS) === 0 ? frame.payload : this.#takeHeaders(request, frame.payload, false);
        if (body !== null && this.#accept(request, body)) this.#settle(request, null, false);
        return;
      }
      case FrameType.RESPONSE_START: {
        const window = request.link.client.route?.receiveWindow;
        if (window != null) request.window = new InboundWindow(window, (increment) => request.connection.sendCredit(this.#ids.bytes(request), increment));
        const body = (frame.flags & FrameFlags.HEADERS) === 0 ? frame.payload : this.#takeHeaders(request, frame.payload, true);
        // the header block counts as body bytes for credit, as for the limits (§1.20)
        if (body === null || !this.#withinCredit(request, frame.payload.length)) return;
        request.window?.consumed(frame.payload.length - body.length); // the block is read already
        this.#accept(request, body);
        return;
      }
      case FrameType.RESPONSE_CHUNK:
        if (this.#withinCredit(request, frame.payload.length)) this.#accept(request, frame.payload);
        return;
      case FrameType.CREDIT:
        this.#credit(request, frame.payload);
        return;
      case FrameType.RESPONSE_END:
        this.#settle(request, null, false);
        return;
      case FrameType.ERROR:
        this.#settle(request, errorFromPayload(frame.payload), false);
        return;
      default:
        return; // nothing else is addressed to a consumer
    }
  }

  /**
   * A response that begins with a header block: keeps its headers and returns the body after it.
   * A malformed block fails the request with BAD_HEADERS (cancelling a response still streaming)
   * and returns null. On a 1.0 connection the flag means nothing, and the payload is all body.
   */
  #takeHeaders(request: PendingRequest, payload: Buffer, streaming: boolean): Buffer | null {
    const version = request.link.client.protocolVersion;
    if (version === null || version.minor < HEADERS_SINCE_MINOR) return payload;
    try {
      const { headers, length } = decodeHeaderBlock(payload, 0);
      request.responseHeaders = headers;
      return payload.subarray(length);
    } catch (error) {
      this.#settle(request, error as Error, streaming);
      return null;
    }
  }

  /**
   * Whether `bytes` more of a flow-controlled response are within the credit this consumer gave
   * (always, without flow control); past it the broker broke flow control: the request fails with
   * FLOW_CONTROL_ERROR and is cancelled.
   */
  #withinCredit(request: PendingRequest, bytes: number): boolean {
    if (request.window === null || request.window.received(bytes)) return true;
    this.#settle(request, new BrokerError("FLOW_CONTROL_ERROR", `the broker sent response bytes past the credit this consumer gave (${request.window.credit} bytes left)`), true);
    return false;
  }

  /**
   * A CREDIT for the request's streamed body (1.1): it may send that much more. An increment of 0,
   * or one for a body not streaming, is ignored; one past 2^31 − 1 fails the request with
   * FLOW_CONTROL_ERROR (CANCEL sent); an unreadable one is ignored, logged.
   */
  #credit(request: PendingRequest, payload: Buffer): void {
    if (applyCredit(payload, request.body, this.#fleet.options.logger)) return;
    this.#settle(request, new BrokerError("FLOW_CONTROL_ERROR", "the broker granted credit past 2^31 - 1 bytes for this request's body"), true);
  }

  /**
   * Takes response bytes: assembled ones within maxResponseBytes (past it the request fails and is
   * cancelled), and for a flow-controlled assembled response gives the credit back at once;
   * stream()'s on a flow-controlled connection are paced by their reader instead, at any size.
   */
  #accept(request: PendingRequest, bytes: Buffer): boolean {
    request.received += bytes.length;
    if (!request.paced) request.window?.consumed(bytes.length);
    if (request.received > this.#maxResponseBytes && !request.paced) {
      const error = new BrokerError("PAYLOAD_TOO_LARGE", `the response exceeds maxResponseBytes (${this.#maxResponseBytes} bytes)`);
      this.#settle(request, error, true);
      return false;
    }
    if (bytes.length > 0) request.sink.push(bytes);
    return true;
  }

  /**
   * The one place a request ends: out of the table and the deadline queue (once — later callers
   * find it gone), listener detached, body stopped, CANCEL sent when this side gave up, outcome
   * delivered.
   */
  #settle(request: PendingRequest, error: Error | null, cancel: boolean): void {
    const expiresAt = request.deadline?.deadline;
    if (!this.#table.delete(request)) return;
    request.window?.end();
    if (request.span !== null) this.#tracing!.end(request.span, error, request.received);
    if (request.onAbort !== null) request.signal!.removeEventListener("abort", request.onAbort);
    request.body?.stop();
    if (cancel && request.connection.state === "open") {
      request.connection.sendFrame(FrameType.CANCEL, FrameFlags.NONE, this.#ids.bytes(request));
    }
    if (error === null) {
      request.sink.end();
      return;
    }
    const code = (error as { code?: string }).code ?? "ERROR";
    if (request.resend !== null && this.#retried(request, code, expiresAt)) return;
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
    request.sink.fail(error);
  }

  /**
   * Sends a failed request once more through the next live broker, when no provider saw it
   * (NO_PROVIDER) or it was lost with its broker and is `idempotent` (DISCONNECTED), time is left,
   * and any response bytes that arrived can be dropped (send()'s); true if it did. The retry keeps
   * the original deadline.
   */
  #retried(request: PendingRequest, code: string, expiresAt: number | undefined): boolean {
    const idempotent = typeof request.options === "object" && request.options.idempotent === true;
    if (code !== "NO_PROVIDER" && !(code === "DISCONNECTED" && idempotent)) return false;
    if (expiresAt === undefined || request.signal?.aborted === true) return false;
    const left = Math.floor(expiresAt - performance.now());
    const next = this.#fleet.next(request.link);
    if (left < 1 || next === null) return false;
    if (request.received > 0) {
      if (request.sink.restart === undefined) return false; // those bytes went to a reader
      request.sink.restart();
    }
    this.#retries++;
    this.#start(request.resend!, left, request.options, request.sink, next, null, true);
    return true;
  }

  /** A broker's connection ended: what was in flight on it fails (or is retried elsewhere). */
  #failOn(link: FleetLink, error: Error, cancel: boolean): void {
    for (const request of this.#table.values()) if (request.link === link) this.#settle(request, error, cancel);
  }
}

function inMemory(body: Body): body is string | Uint8Array {
  return typeof body === "string" || body instanceof Uint8Array;
}

function signalOf(options: number | SendOptions | undefined): AbortSignal | undefined {
  return typeof options === "object" ? options.signal : undefined;
}

function abortedBy(signal: AbortSignal): AbortedError {
  return new AbortedError("the request was aborted", { cause: signal.reason });
}
