import {
  BrokerError,
  CAPACITY_SINCE_MINOR,
  CONNECTION_ID,
  decodeCapacity,
  decodeCredit,
  type Frame,
  FrameFlags,
  FrameType,
  HEADERS_SINCE_MINOR,
  headerBlockLength,
  idToString,
  payloadLength,
  payloadParts,
  REQUEST_HEAD_SIZE,
  ROUTING_HEADER_SIZE,
  Role,
  WIRE_ERROR_CODES,
  type WireErrorCode,
} from "@switchyard/protocol";
import { DeadlineQueue, hashRequestId, InboundWindow, type RequestIds, type RequestIdTable, tickNow } from "@switchyard/transport/internal";
import { readWord, writeWord } from "@switchyard/protocol";
import { BrokerRequest, RequestState } from "./broker-request.js";
import type { Channel } from "./channel.js";
import { WAIT_QUEUE_FULL, WIRE } from "./errors.js";
import { bucketOf, type LatencyHistogram } from "./latency-histogram.js";
import type { Peer } from "./peer.js";
import { type HeldTally, StreamRelay } from "./stream-relay.js";
import { startsWithWords } from "./words.js";

/** The limits the router enforces (a subset of the resolved server options). */
export interface RouterLimits {
  maxQueuedRequests: number;
  maxQueuedRequestBytes: number;
  /** What a consumer may always hold of the wait queue, whatever its fair share (see #waitRefusal). */
  queueShareFloor: number;
  queueShareFloorBytes: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  requestTimeout: number;
  /** Ms a provider whose request timed out has to answer the PING it is then sent; 0 = no PING. */
  pingTimeout: number;
  /** Largest frame payload clients accept (announced in the registration ack). */
  maxPayloadBytes: number;
  /** 1.1: the window the broker grants each streamed body it receives (announced in the ack). */
  streamWindowBytes: number;
}

/** Running totals the router keeps for `BrokerServer.stats()`. */
export interface RouterCounters {
  /** Requests accepted (a START that created a request). */
  requests: number;
  /** Requests completed by their provider: RESPONSE, RESPONSE_END or a provider ERROR delivered. */
  completed: number;
  /** Frames that could not be queued and were not a request's outcome (BAD_ROUTE, PONG, PING; a CANCEL only to a connection already closing). */
  droppedFrames: number;
  /** ERRORs the broker itself sent to consumers or providers, by code. */
  errorsSent: Record<WireErrorCode, number>;
}

/**
 * Longest request deadline, about 24.8 days: setTimeout's limit (2^31 − 1 ms) rounded down to a
 * multiple of the lane step there (2^22), so laneTimeout never rounds past the limit.
 */
export const MAX_REQUEST_TIMEOUT_MS = 2 ** 31 - 2 ** 22;
const EMPTY = Buffer.alloc(0);
const NO_PARTS: readonly Uint8Array[] = [];
const ERROR_CODE_SIZE = 2;

/**
 * The request state machine: routes consumer requests to providers and responses back, enforces
 * capacity, the wait queue, deadlines and size limits. Every request ends in `#settle`, the one
 * place that removes it from every table and sends the consumer its error, so each request has
 * exactly one outcome (see BrokerRequest for the states).
 *
 * Tables, all O(1), none allocating per request (the request is its own key and link):
 *   consumer.requests   RequestIdTable by the consumer's requestId   duplicate check, CHUNK/END/CANCEL
 *   #ids                RequestIds: the slot named in the provider's id  response lookup
 *   provider.inFlight   LinkedQueue                                  capacity, PROVIDER_GONE
 *   channel.waiting     LinkedQueue                                  requests waiting for capacity
 *                       (counted per consumer for fair shares: consumer.queuedRequests/queuedBytes)
 *   #deadlines          DeadlineQueue (one timer)                    TIMEOUT
 */
export class Router {
  readonly counters: RouterCounters = {
    requests: 0,
    completed: 0,
    droppedFrames: 0,
    errorsSent: Object.fromEntries(Object.keys(WIRE_ERROR_CODES).map((code) => [code, 0])) as Record<WireErrorCode, number>,
  };
  /**
   * Durations of completed requests, set when the broker is monitored (null: not measured). Each
   * completed request is counted here and in its channel's histogram: one bucket lookup.
   */
  latency: LatencyHistogram | null = null;
  /** Told of every OVERLOADED the broker sends a consumer (the operator log); not per request otherwise. */
  onOverloaded: ((consumer: Peer) => void) | null = null;
  readonly #limits: RouterLimits;
  /** The ids requests are forwarded to providers under (see BrokerRequest.slot). */
  readonly #ids: RequestIds<BrokerRequest>;
  /** A consumer's requestId rebuilt from its words for one frame header (see #consumerId). */
  readonly #consumerIdScratch = Buffer.alloc(16);
  readonly #deadlines = new DeadlineQueue<BrokerRequest>((request) => this.#settle(request, WIRE.TIMEOUT, true));
  #queued = 0;
  #queuedBytes = 0;
  /** Consumers with at least one request in the wait queue: they share it (see #waitRefusal). */
  #queuingConsumers = 0;
  #pumping = false;
  #draining = false;
  /** Body bytes flow-controlled streams hold here, waiting for their receiver's credit (or drain). */
  readonly #streamHeld: HeldTally = { bytes: 0 };
  #idleWaiters: Array<() => void> = [];

  constructor(limits: RouterLimits, ids: RequestIds<BrokerRequest>) {
    this.#limits = limits;
    this.#ids = ids;
  }

  /** Requests not yet settled: each has a deadline until it settles. */
  get live(): number {
    return this.#deadlines.size;
  }

  /** Requests held by providers: each has a provider-side id while it is. */
  get inFlight(): number {
    return this.#ids.size;
  }

  /** Requests waiting for provider capacity. */
  get queued(): number {
    return this.#queued;
  }

  /** Body bytes held for waiting requests. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Body bytes of flow-controlled streams held for their receivers (BrokerStats.streamHeldBytes). */
  get streamHeldBytes(): number {
    return this.#streamHeld.bytes;
  }

  /** A frame from a registered consumer (PING/PONG are answered before this). */
  onConsumerFrame(consumer: Peer, frame: Frame): void {
    switch (frame.type) {
      case FrameType.START:
        this.#start(consumer, frame);
        return;
      case FrameType.CHUNK:
        this.#chunk(consumer, frame);
        return;
      case FrameType.END:
        this.#end(consumer, frame);
        return;
      case FrameType.CANCEL: {
        const request = findRequest(consumer, frame.requestId);
        if (request !== undefined) this.#settle(request, null, true);
        return;
      }
      case FrameType.ERROR:
        return; // nothing for a consumer to report to the broker; CANCEL is how it gives up
      case FrameType.CREDIT:
        // not a 1.0 frame: on a 1.0 connection it is as unknown as any other type
        if (consumer.flowControlled) this.#consumerCredit(consumer, frame);
        else consumer.protocolViolation("a consumer on a 1.0 connection may not send CREDIT (frame type 12)");
        return;
      default:
        consumer.protocolViolation(`a consumer may not send frame type ${frame.type}`);
    }
  }

  /** A frame from a registered provider (PING/PONG are answered before this). */
  onProviderFrame(provider: Peer, frame: Frame): void {
    switch (frame.type) {
      case FrameType.RESPONSE:
        this.#response(provider, frame);
        return;
      case FrameType.RESPONSE_START:
        this.#responseStart(provider, frame);
        return;
      case FrameType.RESPONSE_CHUNK:
        this.#responseChunk(provider, frame);
        return;
      case FrameType.RESPONSE_END:
        this.#responseEnd(provider, frame);
        return;
      case FrameType.ERROR:
        this.#providerError(provider, frame);
        return;
      case FrameType.CREDIT:
        // not a 1.0 frame: on a 1.0 connection it is as unknown as any other type
        if (provider.flowControlled) this.#providerCredit(provider, frame);
        else provider.protocolViolation("a provider on a 1.0 connection may not send CREDIT (frame type 12)");
        return;
      case FrameType.CAPACITY:
        this.#capacity(provider, frame);
        return;
      default:
        provider.protocolViolation(`a provider may not send frame type ${frame.type}`);
    }
  }

  /**
   * CAPACITY (docs/protocol.md §1.21): the provider's capacity on this connection is now the
   * payload's u32. Lowered, its requests in flight go on and it is sent no more until it is under
   * the new capacity (pickProvider compares); raised, the channel's waiting requests go to it now.
   * On a 1.0 connection, off the all-zero requestId or not 4 bytes: a protocol violation.
   */
  #capacity(provider: Peer, frame: Frame): void {
    if (provider.minorVersion < CAPACITY_SINCE_MINOR) {
      provider.protocolViolation("CAPACITY is a protocol 1.1 frame and this connection negotiated 1.0");
      return;
    }
    if (!frame.requestId.equals(CONNECTION_ID)) {
      provider.protocolViolation("CAPACITY is about the connection: it goes on the all-zero requestId");
      return;
    }
    let capacity: number;
    try {
      capacity = decodeCapacity(frame.payload);
    } catch (error) {
      provider.protocolViolation((error as Error).message);
      return;
    }
    const raised = capacity > provider.capacity;
    provider.capacity = capacity;
    if (raised && provider.channel!.waiting.size > 0) this.#pump(provider.channel!);
  }

  /** A provider registered: requests waiting on its channel can go to it. */
  providerJoined(provider: Peer): void {
    this.#pump(provider.channel!);
  }

  /**
   * A registered peer's connection closed (the registry has already taken it out of its channel).
   * A consumer's requests are cancelled at their providers; a provider's fail with PROVIDER_GONE,
   * and if it was its channel's last provider, the channel's waiting requests fail with NO_PROVIDER.
   */
  peerLeft(peer: Peer): void {
    if (peer.role === Role.CONSUMER) {
      this.#settleAll(peer.requests, null);
      return;
    }
    for (const request of peer.inFlight.toArray()) this.#settle(request, WIRE.PROVIDER_GONE, false);
    const channel = peer.channel!;
    if (channel.providers.length === 0) {
      for (const request of channel.waiting.toArray()) this.#settle(request, WIRE.NO_PROVIDER, false);
    }
  }

  /** From now on new requests get SHUTTING_DOWN; those already accepted go on. */
  beginDrain(): void {
    this.#draining = true;
  }

  /** Resolves once no request is live. */
  whenIdle(): Promise<void> {
    if (this.live === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Settles every live request of these consumers with `error` (cancelling it at its provider). */
  failAll(consumers: Iterable<Peer>, error: BrokerError): void {
    for (const consumer of consumers) this.#settleAll(consumer.requests, error);
  }

  /**
   * Settles every request of one consumer, cancelling them at their providers. Waiting ones go
   * first: settling an in-flight one frees capacity the queue would otherwise hand them.
   */
  #settleAll(table: RequestIdTable<BrokerRequest>, error: BrokerError | null): void {
    const requests = table.values();
    for (const request of requests) if (request.state === RequestState.QUEUED) this.#settle(request, error, false);
    for (const request of requests) this.#settle(request, error, true);
  }

  /** Stops the deadline timer (the server is closed). */
  close(): void {
    this.#deadlines.clear();
  }

  // ── consumer → provider ──────────────────────────────────────────────────────────────────────

  #start(consumer: Peer, frame: Frame): void {
    const { flags, requestId, payload } = frame;
    const hash = hashRequestId(requestId);
    const violation = startViolation(consumer, frame, hash);
    if (violation !== null) {
      consumer.protocolViolation(violation);
      return;
    }
    // HEADERS means something only on a connection that negotiated 1.1 (a 1.0 peer's stray bit is ignored)
    const headerBytes = (flags & FrameFlags.HEADERS) !== 0 && consumer.minorVersion >= HEADERS_SINCE_MINOR ? this.#requestHeaders(consumer, frame) : 0;
    if (headerBytes < 0) return;
    const channel = consumer.channel!;
    // the header block counts as body bytes against maxRequestBytes and the wait queue's limits
    const bodyBytes = payload.length - REQUEST_HEAD_SIZE;
    // a body streamed by a 1.1 consumer is checked against maxRequestBytes only if its provider speaks 1.0 (#dispatch)
    const streamed = (flags & FrameFlags.FINAL) === 0 && consumer.flowControlled;
    let refusal = this.#startRefusal(channel, streamed ? 0 : bodyBytes);
    let provider: Peer | null = null;
    if (refusal === null) {
      provider = channel.pickProvider();
      if (provider === null) refusal = this.#waitRefusal(consumer, 1, payload.length);
      else if (headerBytes > 0 && provider.minorVersion < HEADERS_SINCE_MINOR) refusal = WIRE.NOT_SUPPORTED;
    }
    if (refusal !== null) {
      this.#sendError(consumer, requestId, refusal);
      return;
    }
    const timeoutMs = Math.min(readWord(payload, 0) >>> 0 || consumer.defaultTimeoutMs || this.#limits.requestTimeout, MAX_REQUEST_TIMEOUT_MS);
    const request = new BrokerRequest(consumer, requestId, hash, (flags & FrameFlags.FINAL) !== 0, bodyBytes, headerBytes);
    consumer.requests.add(request);
    // 1.1: the consumer streams the body within the broker's window, granted back as it is forwarded
    if (!request.single && consumer.flowControlled) request.requestFlow = this.#relayFrom(consumer, requestId, bodyBytes);
    const lane = laneTimeout(timeoutMs);
    request.deadlineEntry = this.#deadlines.add(request, lane);
    request.startedAt = request.deadlineEntry.deadline - lane;
    this.counters.requests++;
    channel.requests++;
    if (provider !== null) this.#dispatch(request, provider, payload, timeoutMs);
    else this.#enqueue(request, channel, payload);
  }

  /**
   * The length of the header block behind a START's request head, checked for its bounds only
   * (docs/protocol.md §1.19: the broker forwards it untouched), or -1 after refusing the request
   * with BAD_HEADERS — that request only; the connection carries on. The block must fit the
   * forwarded START's first frame, routing header included.
   */
  #requestHeaders(consumer: Peer, frame: Frame): number {
    let why: string;
    try {
      const length = headerBlockLength(frame.payload, REQUEST_HEAD_SIZE);
      if (ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE + length <= this.#limits.maxPayloadBytes) return length;
      why = `a header block of ${length} bytes does not fit one frame of ${this.#limits.maxPayloadBytes} bytes with the routing header and request head`;
    } catch (error) {
      why = (error as Error).message;
    }
    this.#sendError(consumer, frame.requestId, new BrokerError("BAD_HEADERS", `request refused: ${why}`));
    return -1;
  }

  /**
   * The flow control of a body `sender` (1.1) streams to the broker under `senderId` (its own id
   * for it), `firstBytes` already received: the broker's window toward it, granted back with
   * CREDIT frames as the bytes are forwarded.
   */
  #relayFrom(sender: Peer, senderId: Uint8Array, firstBytes: number): StreamRelay {
    const id = Buffer.from(senderId);
    const inbound = new InboundWindow(this.#limits.streamWindowBytes, (increment) => {
      sender.ctx.sendCredit(id, increment);
    });
    inbound.received(firstBytes); // a first frame always fits the window (≥ MIN_STREAM_WINDOW ≥ maxPayload)
    return new StreamRelay(inbound, this.#streamHeld);
  }

  /**
   * Whether a request's (or response's) body is limited by maxRequestBytes (maxResponseBytes):
   * unless both of its hops are flow-controlled (docs/protocol.md §1.20), where its size costs the
   * broker nothing beyond one window.
   */
  static #limited(consumer: Peer, provider: Peer | null): boolean {
    return !consumer.flowControlled || (provider !== null && !provider.flowControlled);
  }

  /** The error that refuses a well-formed START at once, or null to accept it. */
  #startRefusal(channel: Channel, bodyBytes: number): BrokerError | null {
    if (this.#draining) return WIRE.SHUTTING_DOWN;
    if (channel.providers.length === 0) return WIRE.NO_PROVIDER;
    if (bodyBytes > this.#limits.maxRequestBytes) return WIRE.PAYLOAD_TOO_LARGE;
    return null;
  }

  #chunk(consumer: Peer, frame: Frame): void {
    const request = findRequest(consumer, frame.requestId);
    if (request === undefined) return; // already settled (refused, timed out…): the rest of its body is dropped
    if (!request.bodyOpen) {
      consumer.protocolViolation("CHUNK for a request whose body has ended");
      return;
    }
    const length = payloadLength(frame);
    request.requestBytes += length;
    const flow = request.requestFlow;
    if (flow?.inbound != null && !flow.inbound.received(length)) {
      this.#settle(request, WIRE.FLOW_CONTROL_ERROR, true);
      return;
    }
    if (request.requestBytes > this.#limits.maxRequestBytes && Router.#limited(consumer, request.provider)) {
      this.#settle(request, WIRE.PAYLOAD_TOO_LARGE, true);
      return;
    }
    if (request.state === RequestState.IN_FLIGHT) {
      this.#relayChunk(request, flow, frame, length, true);
      return;
    }
    // Its place in the queue was granted at START: only the bytes are checked now.
    const refusal = this.#waitRefusal(consumer, 0, length);
    if (refusal !== null) {
      this.#settle(request, refusal, true);
      return;
    }
    this.#hold(request, frame.payload);
  }

  #end(consumer: Peer, frame: Frame): void {
    const request = findRequest(consumer, frame.requestId);
    if (request === undefined) return;
    if (!request.bodyOpen) {
      consumer.protocolViolation("END for a request whose body has ended");
      return;
    }
    request.bodyOpen = false;
    const flow = request.requestFlow;
    if (flow !== null) {
      flow.end();
      if (request.state === RequestState.IN_FLIGHT) this.#pumpBody(request, true);
      return;
    }
    // While QUEUED the END is remembered as bodyOpen === false and sent on dispatch.
    if (request.state === RequestState.IN_FLIGHT) this.#toProvider(request, FrameType.END, NO_PARTS);
  }

  /**
   * Forwards what a flow-controlled body holds while its receiver's credit (or, for a 1.0
   * receiver, its socket) allows, then its end once nothing is left and the sender has ended it;
   * waits for the drain of a full 1.0 receiver's socket. `toProvider`: the request body (CHUNKs,
   * then END, to the provider); else the response (RESPONSE_CHUNKs, then RESPONSE_END, which
   * settles the request). Each piece forwarded grants the sender as much again (StreamRelay).
   */
  #pumpBody(request: BrokerRequest, toProvider: boolean): void {
    const flow = (toProvider ? request.requestFlow : request.responseFlow)!;
    for (let piece = flow.take(); piece !== null; piece = flow.take()) {
      if (!this.#forwardChunk(request, toProvider, [piece])) return;
    }
    if (flow.pendingBytes > 0) {
      if (flow.blockedBySocket) this.#afterDrain(request, flow, toProvider);
      return;
    }
    if (!flow.ended) return;
    if (!toProvider) this.#finish(request, FrameType.RESPONSE_END, EMPTY);
    else if (request.requestFlow === flow) {
      request.requestFlow = null; // the body is complete at the provider: nothing more to relay
      this.#toProvider(request, FrameType.END, NO_PARTS);
    }
  }

  /** Pumps `flow` again once its paced receiver has drained, if the request still relays that stream. */
  #afterDrain(request: BrokerRequest, flow: StreamRelay, toProvider: boolean): void {
    if (flow.awaitingDrain) return;
    flow.awaitingDrain = true;
    void flow.receiver!.drained().then(() => {
      flow.awaitingDrain = false;
      if (request.state === RequestState.IN_FLIGHT && (toProvider ? request.requestFlow : request.responseFlow) === flow) this.#pumpBody(request, toProvider);
    });
  }

  /** A CHUNK to the provider (`toProvider`) or a RESPONSE_CHUNK to the consumer; false when it could not be queued (the request is settled). */
  #forwardChunk(request: BrokerRequest, toProvider: boolean, parts: readonly Uint8Array[]): boolean {
    return toProvider ? this.#toProvider(request, FrameType.CHUNK, parts) : this.#toConsumer(request, FrameType.RESPONSE_CHUNK, parts);
  }

  /**
   * Sends the START to `provider` with the routing header in front and timeoutMs rewritten to
   * `timeLeftMs` (≥ 1). `start` is the consumer's START payload (head + body): bytes this broker
   * received and owns, so the head is rewritten in place rather than copied.
   */
  #dispatch(request: BrokerRequest, provider: Peer, start: Buffer, timeLeftMs: number): boolean {
    if (request.requestBytes > this.#limits.maxRequestBytes && Router.#limited(request.consumer, provider)) {
      this.#settle(request, WIRE.PAYLOAD_TOO_LARGE, false); // a 1.1 consumer's stream, for a 1.0 provider
      return false;
    }
    writeWord(start, 0, timeLeftMs);
    // The routing header makes the forwarded START 32 bytes longer than the consumer's: a START
    // that no longer fits one frame goes on as START + CHUNK (+ END if it was FINAL).
    const room = this.#limits.maxPayloadBytes - ROUTING_HEADER_SIZE;
    const split = start.length > room; // the header block, if any, fits the room (#requestHeaders)
    const flags = (request.single && !split ? FrameFlags.FINAL : FrameFlags.NONE) | (request.headerBytes > 0 ? FrameFlags.HEADERS : FrameFlags.NONE);
    const head = split ? start.subarray(0, room) : start;
    this.#ids.add(request);
    if (!provider.ctx.sendFrame(FrameType.START, flags, this.#ids.bytes(request), request.consumer.routingHeader, head)) {
      this.#settle(request, WIRE.OVERLOADED, false);
      return false;
    }
    request.state = RequestState.IN_FLIGHT;
    request.provider = provider;
    provider.inFlight.push(request);
    if (!request.single && (request.requestFlow !== null || provider.flowControlled)) {
      request.requestFlow ??= new StreamRelay(null, this.#streamHeld);
      const flow = request.requestFlow;
      flow.attach(provider.ctx, provider.streamWindow);
      flow.forwarded(start.length - REQUEST_HEAD_SIZE); // all of it goes now (split or not): it fits a first window
    }
    if (!split) return true;
    if (!this.#toProvider(request, FrameType.CHUNK, [start.subarray(room)])) return false;
    return !request.single || this.#toProvider(request, FrameType.END, NO_PARTS);
  }

  /** Forwards CHUNK or END of an in-flight request (payload in parts); a full provider queue aborts the request. */
  #toProvider(request: BrokerRequest, type: FrameType, payload: readonly Uint8Array[]): boolean {
    if (request.provider!.ctx.sendFrameParts(type, FrameFlags.NONE, this.#ids.bytes(request), payload)) return true;
    this.#settle(request, WIRE.OVERLOADED, true);
    return false;
  }

  // ── the wait queue ───────────────────────────────────────────────────────────────────────────

  /**
   * Why `consumer` may not put `requests` more (1 for a START, 0 for a CHUNK of a request already
   * waiting) and `bytes` more into the wait queue, or null if it may. The queue's limits are shared
   * by every consumer, so each also gets a fair share of them:
   *
   *   share = max(floor, limit / (n + 1))    n = consumers holding waiting requests, this one included
   *
   * One consumer alone may fill half the queue; k of them k/(k+1) of it — there is always room left
   * for one more, so a consumer that parks thousands of requests on one channel cannot starve the
   * other channels or consumers. Those over their share (after others arrived) keep what they hold
   * and add nothing until it drains. Computed only for requests that wait: the path where a
   * provider is free does none of this.
   */
  #waitRefusal(consumer: Peer, requests: 0 | 1, bytes: number): BrokerError | null {
    const limits = this.#limits;
    if (requests > 0 && this.#queued >= limits.maxQueuedRequests) return WAIT_QUEUE_FULL.requests;
    if (this.#queuedBytes + bytes > limits.maxQueuedRequestBytes) return WAIT_QUEUE_FULL.bytes;
    const sharers = this.#queuingConsumers + (consumer.queuedRequests === 0 ? 2 : 1);
    if (requests > 0 && consumer.queuedRequests >= Math.max(limits.queueShareFloor, Math.floor(limits.maxQueuedRequests / sharers))) {
      return WAIT_QUEUE_FULL.consumerRequests;
    }
    if (consumer.queuedBytes + bytes > Math.max(limits.queueShareFloorBytes, Math.floor(limits.maxQueuedRequestBytes / sharers))) {
      return WAIT_QUEUE_FULL.consumerBytes;
    }
    return null;
  }

  #enqueue(request: BrokerRequest, channel: Channel, start: Buffer): void {
    request.state = RequestState.QUEUED;
    request.held = [];
    this.#queued++;
    if (request.consumer.queuedRequests++ === 0) this.#queuingConsumers++;
    channel.waiting.push(request);
    this.#hold(request, start);
  }

  /**
   * Keeps a waiting request's bytes. A view into a socket read would pin that whole read buffer
   * for as long as the request waits, so it is copied; a payload that is its whole ArrayBuffer
   * (a body the decoder gathered across reads, up to 1 MiB) pins nothing else and is kept as is.
   */
  #hold(request: BrokerRequest, payload: Buffer): void {
    request.held!.push(payload.byteLength === payload.buffer.byteLength ? payload : Buffer.from(payload));
    request.heldBytes += payload.length;
    request.consumer.queuedBytes += payload.length;
    this.#queuedBytes += payload.length;
  }

  /** Gives back what a request that leaves the wait queue held; returns its held bytes. */
  #release(request: BrokerRequest): Buffer[] {
    const held = request.held!;
    const consumer = request.consumer;
    this.#queued--;
    this.#queuedBytes -= request.heldBytes;
    consumer.queuedBytes -= request.heldBytes;
    if (--consumer.queuedRequests === 0) this.#queuingConsumers--;
    request.held = null;
    request.heldBytes = 0;
    return held;
  }

  /**
   * Dispatches waiting requests while a provider of `channel` has capacity: the START, the CHUNKs
   * that arrived while waiting, and END if it came, in order. Not re-entered: capacity freed by a
   * request settled during the loop is picked up by the loop itself.
   */
  #pump(channel: Channel): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (channel.waiting.size > 0) {
        const provider = channel.pickProvider();
        if (provider === null) return;
        const request = channel.waiting.shift()!;
        const held = this.#release(request);
        request.state = RequestState.PENDING;
        const timeLeftMs = Math.ceil(request.deadlineEntry!.deadline - performance.now());
        if (request.headerBytes > 0 && provider.minorVersion < HEADERS_SINCE_MINOR) {
          this.#settle(request, WIRE.NOT_SUPPORTED, false);
          continue;
        }
        if (timeLeftMs <= 0) {
          // Its deadline passed while it waited (its timer is due in this very turn, behind the one
          // that freed this capacity): forwarding it would only cost the provider a START and a
          // CANCEL — thousands of each when a whole queue expires together.
          this.#settle(request, WIRE.TIMEOUT, false);
          continue;
        }
        if (!this.#dispatch(request, provider, held[0]!, timeLeftMs)) continue;
        const flow = request.requestFlow;
        if (flow !== null) {
          // an END that came while it waited has ended the flow already (#requestEnd)
          for (let i = 1; i < held.length; i++) flow.hold(held[i]!);
          this.#pumpBody(request, true);
          continue;
        }
        let ok = true;
        for (let i = 1; ok && i < held.length; i++) ok = this.#toProvider(request, FrameType.CHUNK, [held[i]!]);
        if (ok && !request.single && !request.bodyOpen) this.#toProvider(request, FrameType.END, NO_PARTS);
      }
    } finally {
      this.#pumping = false;
    }
  }

  // ── provider → consumer ──────────────────────────────────────────────────────────────────────

  /** The request a provider's frame names, if that provider holds it; else BAD_ROUTE. */
  #held(provider: Peer, frame: Frame): BrokerRequest | null {
    const request = this.#ids.find(frame.requestId);
    if (request !== undefined && request.provider === provider) return request;
    this.#badRoute(provider, frame);
    return null;
  }

  /** Like #held, for frames that carry the routing header: it must be the request's, unchanged. */
  #routed(provider: Peer, frame: Frame): BrokerRequest | null {
    const request = this.#held(provider, frame);
    if (request === null) return null;
    if (startsWithWords(frame.payload, request.consumer.routingWords)) return request;
    this.#badRoute(provider, frame);
    return null;
  }

  #badRoute(provider: Peer, frame: Frame): void {
    this.counters.errorsSent.BAD_ROUTE++;
    if (!provider.ctx.sendError(frame.requestId, WIRE.BAD_ROUTE)) this.counters.droppedFrames++;
  }

  #response(provider: Peer, frame: Frame): void {
    const request = this.#routed(provider, frame);
    if (request === null) return;
    if (request.responseOpen) {
      this.#badRoute(provider, frame);
      return;
    }
    let body = afterRoutingHeader(frame.payload);
    if (body.length > this.#limits.maxResponseBytes) {
      this.#settle(request, WIRE.PAYLOAD_TOO_LARGE, false);
      return;
    }
    let flags: number = FrameFlags.NONE;
    if ((frame.flags & FrameFlags.HEADERS) !== 0 && provider.minorVersion >= HEADERS_SINCE_MINOR) {
      const forwarded = this.#responseHeaders(request, provider, frame, body);
      if (forwarded === null) return;
      [body, flags] = forwarded;
    }
    this.#finish(request, FrameType.RESPONSE, body, flags);
  }

  #responseStart(provider: Peer, frame: Frame): void {
    const request = this.#routed(provider, frame);
    if (request === null) return;
    if (request.responseOpen) {
      this.#badRoute(provider, frame);
      return;
    }
    request.responseOpen = true;
    let body = afterRoutingHeader(frame.payload);
    const received = body.length;
    let flags: number = FrameFlags.NONE;
    if ((frame.flags & FrameFlags.HEADERS) !== 0 && provider.minorVersion >= HEADERS_SINCE_MINOR) {
      const forwarded = this.#responseHeaders(request, provider, frame, body);
      if (forwarded === null) return;
      [body, flags] = forwarded;
    }
    const consumer = request.consumer;
    if (provider.flowControlled || consumer.flowControlled) {
      const flow = provider.flowControlled ? this.#relayFrom(provider, frame.requestId, received) : new StreamRelay(null, this.#streamHeld);
      flow.attach(consumer.ctx, consumer.streamWindow);
      request.responseFlow = flow;
    }
    if (this.#responseTooLarge(request, received)) return;
    // a first frame always fits the consumer's window: it goes at once
    if (this.#toConsumer(request, FrameType.RESPONSE_START, [body], flags)) request.responseFlow?.forwarded(received);
  }

  /**
   * A response's header block, checked for its bounds only: to a consumer that speaks 1.1 the body
   * goes as it came, with HEADERS; a 1.0 consumer cannot read a block, so it gets the body without
   * it (it never asked for headers: it has no way to). A malformed block fails the request with
   * BAD_HEADERS to the consumer and tells the provider so; null then.
   */
  #responseHeaders(request: BrokerRequest, provider: Peer, frame: Frame, body: Uint8Array): [Uint8Array, number] | null {
    let length: number;
    try {
      length = headerBlockLength(body, 0);
    } catch (error) {
      const refusal = new BrokerError("BAD_HEADERS", `response refused: the provider sent a ${(error as Error).message}`);
      this.counters.errorsSent.BAD_HEADERS++;
      if (!provider.ctx.sendError(frame.requestId, refusal)) this.counters.droppedFrames++;
      this.#settle(request, refusal, false); // the ERROR just sent ends it at the provider
      return null;
    }
    if (request.consumer.minorVersion >= HEADERS_SINCE_MINOR) return [body, FrameFlags.HEADERS];
    return [body.subarray(length), FrameFlags.NONE];
  }

  #responseChunk(provider: Peer, frame: Frame): void {
    const request = this.#held(provider, frame);
    if (request === null) return;
    if (!request.responseOpen) {
      this.#badRoute(provider, frame);
      return;
    }
    const length = payloadLength(frame);
    const flow = request.responseFlow;
    if (flow?.inbound != null && !flow.inbound.received(length)) {
      this.#providerBrokeFlowControl(request, provider, frame.requestId);
      return;
    }
    if (this.#responseTooLarge(request, length)) return;
    this.#relayChunk(request, flow, frame, length, false);
  }

  /**
   * Passes on a CHUNK (`toProvider`) or RESPONSE_CHUNK of an in-flight request: at once, in the
   * parts it was read in, when nothing is held before it and the receiver's credit covers it (or
   * the stream is not flow-controlled); otherwise it is held, and the stream's pump sends what the
   * credit allows.
   */
  #relayChunk(request: BrokerRequest, flow: StreamRelay | null, frame: Frame, length: number, toProvider: boolean): void {
    if (flow !== null && !flow.canForward(length)) {
      flow.hold(frame.payload);
      this.#pumpBody(request, toProvider);
      return;
    }
    if (this.#forwardChunk(request, toProvider, payloadParts(frame))) flow?.forwarded(length);
  }

  /**
   * Whether a response grew over maxResponseBytes with `bytes` more (counted as received); if so it
   * is ended with PAYLOAD_TOO_LARGE and cancelled. Only a response with a 1.0 hop is limited.
   */
  #responseTooLarge(request: BrokerRequest, bytes: number): boolean {
    request.responseBytes += bytes;
    if (request.responseBytes <= this.#limits.maxResponseBytes || !Router.#limited(request.consumer, request.provider)) return false;
    this.#settle(request, WIRE.PAYLOAD_TOO_LARGE, true);
    return true;
  }

  /**
   * A provider sent response bytes past its credit, or took credit past 2^31 − 1: that request ends
   * with FLOW_CONTROL_ERROR to its consumer, and the provider is told so on its requestId (which
   * ends it there: no CANCEL follows). Its connection and other requests carry on.
   */
  #providerBrokeFlowControl(request: BrokerRequest, provider: Peer, requestId: Uint8Array): void {
    this.counters.errorsSent.FLOW_CONTROL_ERROR++;
    if (!provider.ctx.sendError(requestId, WIRE.FLOW_CONTROL_ERROR)) this.counters.droppedFrames++;
    this.#settle(request, WIRE.FLOW_CONTROL_ERROR, false);
  }

  // ── credit (1.1) ─────────────────────────────────────────────────────────────────────────────

  /**
   * The increment of a CREDIT from `peer`, or -1 after answering a malformed one as the protocol
   * violation it is (a payload that is not 4 bytes; the zero id: there is no connection window).
   */
  #creditOf(peer: Peer, frame: Frame): number {
    if (frame.requestId[0] === 0 && frame.requestId.equals(CONNECTION_ID)) {
      peer.protocolViolation("CREDIT on requestId zero: credit is per stream, there is no connection window");
      return -1;
    }
    try {
      return decodeCredit(frame.payload);
    } catch (error) {
      peer.protocolViolation((error as Error).message);
      return -1;
    }
  }

  /**
   * A consumer grants response credit. For a response that is not streaming (not begun, ended, or
   * the request gone) it is ignored, as is an increment of 0; one taking the credit past 2^31 − 1
   * ends that request with FLOW_CONTROL_ERROR (and CANCEL to its provider).
   */
  #consumerCredit(consumer: Peer, frame: Frame): void {
    const increment = this.#creditOf(consumer, frame);
    if (increment <= 0) return;
    const request = findRequest(consumer, frame.requestId);
    const credit = request?.responseFlow?.outbound;
    if (credit == null) return;
    if (!credit.grant(increment)) {
      this.#settle(request!, WIRE.FLOW_CONTROL_ERROR, true);
      return;
    }
    this.#pumpBody(request!, false);
  }

  /**
   * A provider grants request-body credit, on the id the broker gave the request. For a body that
   * is not streaming to it (ended, or a request it no longer holds) it is ignored, as is 0; past
   * 2^31 − 1 the request ends with FLOW_CONTROL_ERROR (#providerBrokeFlowControl).
   */
  #providerCredit(provider: Peer, frame: Frame): void {
    const increment = this.#creditOf(provider, frame);
    if (increment <= 0) return;
    const request = this.#ids.find(frame.requestId);
    if (request === undefined || request.provider !== provider) return;
    const credit = request.requestFlow?.outbound;
    if (credit == null) return;
    if (!credit.grant(increment)) {
      this.#providerBrokeFlowControl(request, provider, frame.requestId);
      return;
    }
    this.#pumpBody(request, true);
  }

  #responseEnd(provider: Peer, frame: Frame): void {
    const request = this.#held(provider, frame);
    if (request === null) return;
    if (!request.responseOpen) {
      this.#badRoute(provider, frame);
      return;
    }
    const flow = request.responseFlow;
    if (flow !== null && flow.pendingBytes > 0) {
      flow.end(); // RESPONSE_END follows what is still held for the consumer (#pumpBody)
      return;
    }
    this.#finish(request, FrameType.RESPONSE_END, EMPTY);
  }

  #providerError(provider: Peer, frame: Frame): void {
    const request = this.#routed(provider, frame);
    if (request === null) return;
    const body = afterRoutingHeader(frame.payload);
    if (body.length < ERROR_CODE_SIZE) {
      this.#settle(request, WIRE.HANDLER_ERROR, false);
      return;
    }
    this.#finish(request, FrameType.ERROR, body);
  }

  /** Forwards part of a streamed response (in parts); a full consumer queue aborts the request (false). */
  #toConsumer(request: BrokerRequest, type: FrameType, body: readonly Uint8Array[], flags: number = FrameFlags.NONE): boolean {
    if (request.consumer.ctx.sendFrameParts(type, flags, this.#consumerId(request), body)) return true;
    this.#settle(request, WIRE.OVERLOADED, true);
    return false;
  }

  /** Forwards the frame that completes a request (RESPONSE, RESPONSE_END, ERROR) and settles it. */
  #finish(request: BrokerRequest, type: FrameType, body: Uint8Array, flags: number = FrameFlags.NONE): void {
    // Forwarded in the regular queue, not the error queue, so a provider's ERROR stays behind the
    // RESPONSE_CHUNKs it follows.
    const delivered = request.consumer.ctx.sendFrame(type, flags, this.#consumerId(request), body);
    if (delivered) {
      this.counters.completed++;
      if (this.latency !== null) this.#measure(request, this.latency);
    }
    this.#settle(request, delivered ? null : WIRE.OVERLOADED, false);
  }

  /** Counts a completed request's duration, START to the frame that completed it, overall and in its channel. */
  #measure(request: BrokerRequest, overall: LatencyHistogram): void {
    const ms = tickNow() - request.startedAt;
    const bucket = bucketOf(ms);
    overall.add(bucket, ms);
    request.consumer.channel!.latency.add(bucket, ms);
  }

  // ── the one way out ──────────────────────────────────────────────────────────────────────────

  /**
   * Ends a request: takes it out of its consumer's table, the deadline queue, the wait queue and
   * its provider's table; sends the consumer `error` (null when the consumer already has its
   * outcome or is gone); sends CANCEL to the provider holding it when `cancelProvider`; then lets
   * the freed capacity serve the channel's waiting requests. Idempotent.
   *
   * A provider a request is taken from unanswered (its deadline passed, the consumer cancelled —
   * usually at its own deadline — or left) may be frozen or half-open, its kernel still taking our
   * bytes: it is also PINGed (ConnectionContext.probe, one at a time) and closed if it sends
   * nothing within pingTimeout; its other requests then fail with PROVIDER_GONE and new ones go
   * to live providers, long before the read timeout would close it.
   */
  #settle(request: BrokerRequest, error: BrokerError | null, cancelProvider: boolean): void {
    const state = request.state;
    if (state === RequestState.SETTLED) return;
    request.state = RequestState.SETTLED;
    const consumer = request.consumer;
    if (request.requestFlow !== null) {
      request.requestFlow.discard();
      request.requestFlow = null;
    }
    if (request.responseFlow !== null) {
      request.responseFlow.discard();
      request.responseFlow = null;
    }
    consumer.requests.delete(request);
    this.#deadlines.delete(request.deadlineEntry!);
    if (state === RequestState.QUEUED) {
      consumer.channel!.waiting.remove(request);
      this.#release(request);
    }
    const provider = request.provider;
    if (provider !== null) {
      provider.inFlight.remove(request);
      if (cancelProvider) {
        if (!provider.ctx.sendControl(FrameType.CANCEL, this.#ids.bytes(request))) this.counters.droppedFrames++;
        if (this.#limits.pingTimeout > 0) provider.ctx.probe(this.#limits.pingTimeout);
      }
    }
    this.#ids.delete(request);
    if (error !== null) this.#sendError(consumer, this.#consumerId(request), error);
    if (provider !== null && provider.channel!.waiting.size > 0) this.#pump(provider.channel!);
    if (this.live === 0 && this.#idleWaiters.length > 0) this.#wakeIdle();
  }

  /**
   * Sends a consumer an error the broker decided, in its error queue (flushed first). That queue
   * refuses nothing while the connection is open, so however many requests fail in one turn each
   * gets its error; only a closed connection, whose client fails them all itself, misses it.
   */
  #sendError(consumer: Peer, requestId: Uint8Array, error: BrokerError): void {
    this.counters.errorsSent[error.code as WireErrorCode]++;
    consumer.channel!.countError(error.code as WireErrorCode);
    if (error.code === "OVERLOADED") this.onOverloaded?.(consumer);
    consumer.ctx.sendError(requestId, error);
  }

  /**
   * The consumer's requestId of `request`, in a buffer reused by the next call: only for
   * sendFrame/sendError, which copy it into the frame header at once. Rebuilding 16 bytes from
   * the words costs less than keeping a copy per request.
   */
  #consumerId(request: BrokerRequest): Buffer {
    const id = this.#consumerIdScratch;
    writeWord(id, 0, request.id0);
    writeWord(id, 4, request.id1);
    writeWord(id, 8, request.id2);
    writeWord(id, 12, request.id3);
    return id;
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * What follows the routing header of a provider's payload (the caller checked it is there). A
 * plain Uint8Array view: Buffer's subarray builds a FastBuffer, about 1.5× the cost, and
 * sendFrame takes any Uint8Array.
 */
function afterRoutingHeader(payload: Buffer): Uint8Array {
  return new Uint8Array(payload.buffer, payload.byteOffset + ROUTING_HEADER_SIZE, payload.length - ROUTING_HEADER_SIZE);
}

/** The live request of `consumer` that `requestId` names, if any. */
function findRequest(consumer: Peer, requestId: Buffer): BrokerRequest | undefined {
  return consumer.requests.find(requestId, hashRequestId(requestId));
}

/** Why a consumer's START breaks the protocol (the connection is closed for it), or null. */
function startViolation(consumer: Peer, frame: Frame, hash: number): string | null {
  const { requestId, payload } = frame;
  if ((frame.flags & FrameFlags.REGISTRATION) !== 0) return "this connection is already registered";
  if (payload.length < REQUEST_HEAD_SIZE) return `request START payload of ${payload.length} bytes is shorter than its 4-byte head`;
  if (requestId[0] === 0 && requestId.equals(CONNECTION_ID)) return "requestId zero names the connection, not a request";
  if (consumer.requests.find(requestId, hash) !== undefined) return `requestId ${idToString(requestId)} is already in use by a live request of this connection`;
  return null;
}

/**
 * The timeout a request's deadline is filed under. DeadlineQueue keeps one lane per distinct
 * timeout value, and a consumer may send any u32; rounding up to 1/256 of the value's power of two
 * (≤ 0.4 % later, e.g. 5000 → 5008 ms) bounds the lanes to a few thousand whatever it sends.
 * Integer arithmetic only: this runs for every request. `timeoutMs` is 1 ..= 2^31 − 1.
 */
export function laneTimeout(timeoutMs: number): number {
  if (timeoutMs <= 256) return timeoutMs;
  const shift = 23 - Math.clz32(timeoutMs); // log2(step) = floor(log2(timeoutMs)) − 8
  const mask = (1 << shift) - 1;
  return ((timeoutMs + mask) & ~mask) >>> 0;
}
