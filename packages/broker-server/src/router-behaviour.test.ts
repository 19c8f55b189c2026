import {
  decodeCredit,
  decodeErrorBody,
  encodeCredit,
  encodeCapacity,
  encodeErrorBody,
  encodeRequestHead,
  encodeRoutingHeader,
  type Frame,
  FrameFlags,
  FrameType,
  newId,
  REQUEST_HEAD_SIZE,
  ROUTING_HEADER_SIZE,
  Role,
} from "@switchyard/protocol";
import { LinkedQueue, RequestIdTable, RequestIds } from "@switchyard/transport/internal";
import { describe, expect, it, vi } from "vitest";
import type { BrokerRequest } from "./broker-request.js";
import { Channel } from "./channel.js";
import { WAIT_QUEUE_FULL } from "./errors.js";
import type { Peer } from "./peer.js";
import { Router, type RouterLimits } from "./router.js";
import { toWords } from "./words.js";

/*
 * The router's behaviour driven through its API (onConsumerFrame, onProviderFrame, providerJoined,
 * peerLeft, beginDrain, whenIdle) with fake peers: each peer's connection records what the router
 * sends it, so every test asserts outcomes on the wire, not the router's internals. (The same
 * behaviour over real sockets is in test/routing.test.ts and test/fair-shares.test.ts.)
 */

/** A frame the router sent a fake peer (ids and payload copied: the router reuses its buffers). */
interface Sent {
  type: FrameType;
  flags: number;
  requestId: Buffer;
  payload: Buffer;
}

/** What the router calls on a peer's ConnectionContext, recorded. */
class RecordingConnection {
  readonly sent: Sent[] = [];
  readonly probes: number[] = [];
  /** False: its write queue is full, sendFrame refuses (as a slow peer's would). */
  accepts = true;

  sendFrame(type: FrameType, flags: number, requestId: Uint8Array, ...payload: Uint8Array[]): boolean {
    return this.sendFrameParts(type, flags, requestId, payload);
  }

  sendFrameParts(type: FrameType, flags: number, requestId: Uint8Array, payload: readonly Uint8Array[]): boolean {
    if (!this.accepts) return false;
    this.sent.push({ type, flags, requestId: Buffer.from(requestId), payload: Buffer.concat(payload) });
    return true;
  }

  sendError(requestId: Uint8Array, error: { wireCode: number; message: string }): boolean {
    this.sent.push({ type: FrameType.ERROR, flags: 0, requestId: Buffer.from(requestId), payload: encodeErrorBody(error) });
    return true;
  }

  sendControl(type: FrameType, requestId: Uint8Array): boolean {
    this.sent.push({ type, flags: 0, requestId: Buffer.from(requestId), payload: Buffer.alloc(0) });
    return true;
  }

  sendCredit(requestId: Uint8Array, increment: number): boolean {
    this.sent.push({ type: FrameType.CREDIT, flags: 0, requestId: Buffer.from(requestId), payload: encodeCredit(increment) });
    return true;
  }

  /** What a paced (1.0) stream reads before it forwards: a socket never full here. */
  readonly blocked = false;
  readonly queuedBytes = 0;
  drained(): Promise<void> {
    return Promise.resolve();
  }

  /** The increments of the CREDITs sent so far, in order. */
  credits(): number[] {
    return this.of(FrameType.CREDIT).map((frame) => decodeCredit(frame.payload));
  }

  probe(timeoutMs: number): void {
    this.probes.push(timeoutMs);
  }

  /** Frames of `type` sent so far. */
  of(type: FrameType): Sent[] {
    return this.sent.filter((frame) => frame.type === type);
  }

  /** The codes of the ERRORs sent so far (for `requestId` when given). */
  errorCodes(requestId?: Buffer): string[] {
    return this.of(FrameType.ERROR)
      .filter((frame) => requestId === undefined || frame.requestId.equals(requestId))
      .map((frame) => decodeErrorBody(frame.payload).code);
  }
}

/** A stand-in Peer: what the router reads and calls, with a recording connection. */
interface FakePeer {
  ctx: RecordingConnection;
  role: Role;
  clientId: Buffer;
  channel: Channel;
  defaultTimeoutMs: number;
  capacity: number;
  minorVersion: number;
  routingHeader: Buffer;
  routingWords: Int32Array;
  queuedRequests: number;
  queuedBytes: number;
  requests: RequestIdTable<BrokerRequest>;
  inFlight: LinkedQueue<BrokerRequest>;
  violations: string[];
  protocolViolation(message: string): void;
  /** 1.1 (docs/protocol.md §1.20): its streams are flow-controlled with this window; null: it speaks 1.0. */
  streamWindow: number | null;
  flowControlled: boolean;
}

const LIMITS: RouterLimits = {
  maxQueuedRequests: 8,
  maxQueuedRequestBytes: 1024 * 1024,
  queueShareFloor: 1,
  queueShareFloorBytes: 1,
  maxRequestBytes: 64 * 1024,
  maxResponseBytes: 64 * 1024,
  requestTimeout: 5000,
  pingTimeout: 5000,
  maxPayloadBytes: 1024 * 1024,
  streamWindowBytes: 4 * 1024 * 1024,
};

/** A router, a channel, and helpers to add peers and send frames. */
function setUp(limits: Partial<RouterLimits> = {}) {
  const router = new Router({ ...LIMITS, ...limits }, new RequestIds<BrokerRequest>(newId()));
  const channelId = newId();
  const channel = new Channel(channelId.toString("latin1"));

  function peer(role: Role, capacity: number, streamWindow: number | null = null, minorVersion = 1): FakePeer {
    const clientId = newId();
    const routingHeader = encodeRoutingHeader(clientId, channelId);
    const fake: FakePeer = {
      ctx: new RecordingConnection(),
      role,
      clientId,
      channel,
      defaultTimeoutMs: 0,
      capacity,
      minorVersion,
      routingHeader,
      routingWords: toWords(routingHeader),
      queuedRequests: 0,
      queuedBytes: 0,
      requests: new RequestIdTable<BrokerRequest>(),
      inFlight: new LinkedQueue<BrokerRequest>(),
      violations: [],
      protocolViolation: (message) => fake.violations.push(message),
      streamWindow,
      flowControlled: streamWindow !== null,
    };
    return fake;
  }

  const asPeer = (fake: FakePeer) => fake as unknown as Peer;

  return {
    router,
    channel,
    /** A consumer; with `streamWindow`, one whose connection speaks 1.1 and announced that window. */
    consumer: (streamWindow: number | null = null) => peer(Role.CONSUMER, 0, streamWindow),
    /** A provider that joined the channel (as the registry adds it, then tells the router); 1.1 with `streamWindow`. */
    provider(capacity = 1, streamWindow: number | null = null, minorVersion = 1): FakePeer {
      const provider = peer(Role.PROVIDER, capacity, streamWindow, minorVersion);
      channel.addProvider(asPeer(provider));
      router.providerJoined(asPeer(provider));
      return provider;
    },
    /** The provider's connection closed: the registry takes it out of its channel, then tells the router. */
    providerLeaves(provider: FakePeer): void {
      channel.removeProvider(asPeer(provider));
      router.peerLeft(asPeer(provider));
    },
    consumerLeaves: (consumer: FakePeer) => router.peerLeft(asPeer(consumer)),
    /** The consumer sends a request: START|FINAL with the whole body (or START alone when `streamed`); returns its requestId. */
    send(consumer: FakePeer, body = "ping", timeoutMs = 0, streamed = false): Buffer {
      const requestId = newId();
      const payload = Buffer.concat([encodeRequestHead(timeoutMs), Buffer.from(body)]);
      router.onConsumerFrame(asPeer(consumer), frame(FrameType.START, streamed ? 0 : FrameFlags.FINAL, requestId, payload));
      return requestId;
    },
    fromConsumer(consumer: FakePeer, type: FrameType, requestId: Buffer, payload: Buffer = Buffer.alloc(0)): void {
      router.onConsumerFrame(asPeer(consumer), frame(type, 0, requestId, payload));
    },
    /** The provider answers the START it got with one RESPONSE echoing `routing` (the START's by default). */
    respond(provider: FakePeer, start: Sent, body = "pong", routing = start.payload.subarray(0, ROUTING_HEADER_SIZE)): void {
      router.onProviderFrame(asPeer(provider), frame(FrameType.RESPONSE, 0, start.requestId, Buffer.concat([routing, Buffer.from(body)])));
    },
    fromProvider(provider: FakePeer, type: FrameType, requestId: Buffer, payload: Buffer = Buffer.alloc(0)): void {
      router.onProviderFrame(asPeer(provider), frame(type, 0, requestId, payload));
    },
    /** The provider sends CAPACITY on the all-zero id. */
    capacity(provider: FakePeer, capacity: number): void {
      router.onProviderFrame(asPeer(provider), frame(FrameType.CAPACITY, 0, Buffer.alloc(16), encodeCapacity(capacity)));
    },
  };
}

function frame(type: FrameType, flags: number, requestId: Buffer, payload: Buffer): Frame {
  return { type, flags, requestId, payload } as Frame;
}

/** The body of a START a provider got (after routing header and request head). */
const bodyOf = (start: Sent) => start.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE).toString();

describe("Router: routing", () => {
  it("forwards a START to a provider under an id of its own, with the consumer's routing header and the time left, and the RESPONSE back under the consumer's id", () => {
    const { router, consumer, provider, send, respond } = setUp();
    const c = consumer();
    const p = provider();
    const id = send(c, "hello", 3000);
    const [start] = p.ctx.of(FrameType.START);
    expect(start!.flags & FrameFlags.FINAL).toBe(FrameFlags.FINAL);
    expect(start!.requestId.equals(id)).toBe(false); // the broker's own id, not the consumer's
    expect(start!.payload.subarray(0, ROUTING_HEADER_SIZE).equals(c.routingHeader)).toBe(true);
    const timeLeft = start!.payload.readUInt32BE(ROUTING_HEADER_SIZE);
    expect(timeLeft).toBeGreaterThan(0);
    expect(timeLeft).toBeLessThanOrEqual(3000);
    expect(bodyOf(start!)).toBe("hello");
    expect(router.inFlight).toBe(1);

    respond(p, start!, "world");
    const [response] = c.ctx.of(FrameType.RESPONSE);
    expect(response!.requestId.equals(id)).toBe(true);
    expect(response!.payload.toString()).toBe("world");
    expect([router.inFlight, router.live, router.counters.completed]).toEqual([0, 0, 1]);
  });

  it("sends each request to the least-loaded provider below its capacity", () => {
    const { consumer, provider, send } = setUp();
    const c = consumer();
    const a = provider(2);
    const b = provider(2);
    for (let i = 0; i < 4; i++) send(c, `r${i}`);
    expect([a.ctx.of(FrameType.START).length, b.ctx.of(FrameType.START).length]).toEqual([2, 2]);
  });

  it("refuses with NO_PROVIDER when the channel has none, and PAYLOAD_TOO_LARGE over maxRequestBytes, keeping nothing", () => {
    const { router, consumer, provider, send } = setUp({ maxRequestBytes: 10 });
    const c = consumer();
    const lonely = send(c);
    expect(c.ctx.errorCodes(lonely)).toEqual(["NO_PROVIDER"]);
    const p = provider();
    const big = send(c, "eleven byte");
    expect(c.ctx.errorCodes(big)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(p.ctx.sent).toHaveLength(0);
    expect(router.live).toBe(0);
  });

  it("after beginDrain refuses new requests with SHUTTING_DOWN while those accepted finish, and whenIdle resolves with the last", async () => {
    const { router, consumer, provider, send, respond } = setUp();
    const c = consumer();
    const p = provider();
    send(c, "accepted");
    router.beginDrain();
    const late = send(c, "late");
    expect(c.ctx.errorCodes(late)).toEqual(["SHUTTING_DOWN"]);
    let idle = false;
    const whenIdle = router.whenIdle().then(() => {
      idle = true;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
    respond(p, p.ctx.of(FrameType.START)[0]!);
    await whenIdle;
    expect(c.ctx.of(FrameType.RESPONSE)).toHaveLength(1);
  });

  it("answers a provider's frame for a request it does not hold with BAD_ROUTE, and leaves that request alone", () => {
    const { consumer, provider, send, respond } = setUp();
    const c = consumer();
    const a = provider();
    const b = provider();
    send(c, "for a");
    const [start] = a.ctx.of(FrameType.START);
    respond(b, start!, "not mine"); // b answers a's request
    expect(b.ctx.errorCodes(start!.requestId)).toEqual(["BAD_ROUTE"]);
    respond(a, start!, "wrong routing", encodeRoutingHeader(newId(), newId())); // a changes the routing header
    expect(a.ctx.errorCodes(start!.requestId)).toEqual(["BAD_ROUTE"]);
    expect(c.ctx.sent).toHaveLength(0);
    respond(a, start!, "right");
    expect(c.ctx.of(FrameType.RESPONSE).map((f) => f.payload.toString())).toEqual(["right"]);
  });

  it("gives each request exactly one outcome: a RESPONSE after the request was settled is BAD_ROUTE, not a second answer", () => {
    const { consumer, provider, send, respond, fromConsumer } = setUp();
    const c = consumer();
    const p = provider();
    const id = send(c);
    const [start] = p.ctx.of(FrameType.START);
    fromConsumer(c, FrameType.CANCEL, id);
    expect(p.ctx.of(FrameType.CANCEL).map((f) => f.requestId.equals(start!.requestId))).toEqual([true]);
    respond(p, start!);
    expect(c.ctx.sent).toHaveLength(0); // the consumer cancelled: it gets nothing, not even an error
    expect(p.ctx.errorCodes(start!.requestId)).toEqual(["BAD_ROUTE"]);
  });

  it("relays a streamed response and fails it with PAYLOAD_TOO_LARGE, cancelling it at the provider, once it passes maxResponseBytes", () => {
    const { consumer, provider, send, fromProvider } = setUp({ maxResponseBytes: 10 });
    const c = consumer();
    const p = provider();
    const id = send(c);
    const [start] = p.ctx.of(FrameType.START);
    fromProvider(p, FrameType.RESPONSE_START, start!.requestId, Buffer.concat([c.routingHeader, Buffer.from("12345")]));
    fromProvider(p, FrameType.RESPONSE_CHUNK, start!.requestId, Buffer.from("67890"));
    expect(c.ctx.sent.map((f) => f.type)).toEqual([FrameType.RESPONSE_START, FrameType.RESPONSE_CHUNK]);
    fromProvider(p, FrameType.RESPONSE_CHUNK, start!.requestId, Buffer.from("!"));
    expect(c.ctx.errorCodes(id)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(1);
  });

  it("fails a request with OVERLOADED when its provider's write queue refuses the START", () => {
    const { router, consumer, provider, send } = setUp();
    const c = consumer();
    const p = provider();
    p.ctx.accepts = false;
    const id = send(c);
    expect(c.ctx.errorCodes(id)).toEqual(["OVERLOADED"]);
    expect([router.inFlight, router.live]).toEqual([0, 0]);
  });

  it("closes a consumer that reuses the requestId of a live request (a protocol violation), and keeps the first", () => {
    const { router, consumer, provider, fromConsumer } = setUp();
    const c = consumer();
    provider();
    const id = newId();
    const start = Buffer.concat([encodeRequestHead(0), Buffer.from("x")]);
    fromConsumer(c, FrameType.START, id, start);
    router.onConsumerFrame(c as unknown as Peer, frame(FrameType.START, FrameFlags.FINAL, id, Buffer.concat([encodeRequestHead(0), Buffer.from("y")])));
    expect(c.violations).toEqual([expect.stringMatching(/already in use by a live request/)]);
    expect(router.live).toBe(1);
  });
});

describe("Router: relaying", () => {
  it("forwards the CHUNKs and END of a streamed request in flight under the provider's id", () => {
    const { consumer, provider, send, fromConsumer } = setUp();
    const c = consumer();
    const p = provider();
    const id = send(c, "head-", 0, true);
    fromConsumer(c, FrameType.CHUNK, id, Buffer.from("body"));
    fromConsumer(c, FrameType.END, id);
    expect(p.ctx.sent.map((f) => f.type)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.END]);
    expect(p.ctx.sent[0]!.flags & FrameFlags.FINAL).toBe(0);
    expect(new Set(p.ctx.sent.map((f) => f.requestId.toString("hex"))).size).toBe(1);
    expect(p.ctx.sent[1]!.payload.toString()).toBe("body");
  });

  it("splits a START|FINAL that the routing header pushes past maxPayloadBytes into START, CHUNK and END", () => {
    const { consumer, provider, send } = setUp({ maxPayloadBytes: 100 });
    const c = consumer();
    const p = provider();
    const body = "x".repeat(90); // 4 + 90 bytes fit the consumer's frame; with 32 more they do not
    send(c, body);
    const [start, chunk, end] = p.ctx.sent;
    expect(p.ctx.sent.map((f) => f.type)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.END]);
    expect(start!.flags & FrameFlags.FINAL).toBe(0);
    expect(start!.payload.length).toBe(100);
    expect(Buffer.concat([start!.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE), chunk!.payload]).toString()).toBe(body);
    expect(end!.payload.length).toBe(0);
  });

  it("relays a provider's ERROR to the consumer as it is, and one too short for its code as HANDLER_ERROR", () => {
    const { router, consumer, provider, send, fromProvider } = setUp();
    const c = consumer();
    const p = provider(2);
    const failed = send(c, "a");
    const garbled = send(c, "b");
    const [first, second] = p.ctx.of(FrameType.START);
    fromProvider(p, FrameType.ERROR, first!.requestId, Buffer.concat([c.routingHeader, encodeErrorBody({ wireCode: 7, message: "bad input" })]));
    fromProvider(p, FrameType.ERROR, second!.requestId, Buffer.concat([c.routingHeader, Buffer.from([1])]));
    const relayed = c.ctx.of(FrameType.ERROR).find((f) => f.requestId.equals(failed))!;
    expect(decodeErrorBody(relayed.payload)).toMatchObject({ wireCode: 7, message: "bad input" });
    expect(c.ctx.errorCodes(garbled)).toEqual(["HANDLER_ERROR"]);
    expect([router.live, router.counters.completed]).toEqual([0, 1]);
  });

  it("counts the errors it sends by code and tells onOverloaded of each OVERLOADED", () => {
    const { router, consumer, provider, send } = setUp({ maxQueuedRequests: 1, queueShareFloor: 1 });
    const overloaded: unknown[] = [];
    router.onOverloaded = (peer) => overloaded.push(peer);
    const c = consumer();
    send(c);
    provider(1);
    send(c, "in flight");
    send(c, "waits");
    send(c, "refused");
    expect(router.counters.errorsSent).toMatchObject({ NO_PROVIDER: 1, OVERLOADED: 1 });
    expect(overloaded).toEqual([c]);
  });

  it("failAll settles every request of the consumers named with that error, and cancels them at their providers", () => {
    const { router, consumer, provider, send } = setUp();
    const c = consumer();
    const other = consumer();
    const p = provider(1);
    const held = send(c, "held");
    const waiting = send(c, "waiting");
    send(other, "others wait");
    router.failAll([c as unknown as Peer], WAIT_QUEUE_FULL.requests);
    expect(c.ctx.errorCodes(held)).toEqual(["OVERLOADED"]);
    expect(c.ctx.errorCodes(waiting)).toEqual(["OVERLOADED"]);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(1);
    expect(other.ctx.sent).toHaveLength(0);
    expect(p.ctx.of(FrameType.START).map(bodyOf)).toEqual(["held", "others wait"]);
  });
});

describe("Router: the wait queue", () => {
  it("queues a request while every provider is at capacity and dispatches it, START, CHUNKs and END in order, when capacity frees", () => {
    const { router, consumer, provider, send, fromConsumer, respond } = setUp();
    const c = consumer();
    const p = provider(1);
    send(c, "first");
    const waiting = send(c, "second-", 0, true);
    fromConsumer(c, FrameType.CHUNK, waiting, Buffer.from("part-a"));
    fromConsumer(c, FrameType.CHUNK, waiting, Buffer.from("part-b"));
    fromConsumer(c, FrameType.END, waiting);
    expect([router.queued, p.ctx.sent.length]).toEqual([1, 1]);

    respond(p, p.ctx.of(FrameType.START)[0]!);
    expect(router.queued).toBe(0);
    const relayed = p.ctx.sent.slice(1);
    expect(relayed.map((f) => f.type)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.CHUNK, FrameType.END]);
    expect(bodyOf(relayed[0]!)).toBe("second-");
    expect(relayed.slice(1, 3).map((f) => f.payload.toString())).toEqual(["part-a", "part-b"]);
    expect(new Set(relayed.map((f) => f.requestId.toString("hex"))).size).toBe(1); // all under the one id the provider got
  });

  it("gives a consumer alone half the queue, then OVERLOADED for its share; a second consumer still gets a place", () => {
    const { router, consumer, provider, send } = setUp({ maxQueuedRequests: 8, queueShareFloor: 1 });
    const hog = consumer();
    const other = consumer();
    provider(1);
    send(hog, "in flight");
    const hogs = Array.from({ length: 5 }, () => send(hog));
    expect(router.queued).toBe(4); // max(1, 8 / 2)
    expect(hog.ctx.errorCodes(hogs[4])).toEqual(["OVERLOADED"]);
    expect(decodeErrorBody(hog.ctx.of(FrameType.ERROR)[0]!.payload).message).toBe(WAIT_QUEUE_FULL.consumerRequests.message);

    // With two consumers waiting, each may hold max(1, 8 / 3) = 2; the hog already holds more and adds nothing.
    const others = Array.from({ length: 3 }, () => send(other));
    expect(other.ctx.errorCodes()).toEqual(["OVERLOADED"]);
    expect(other.ctx.errorCodes(others[2])).toEqual(["OVERLOADED"]);
    expect(router.queued).toBe(6);
    expect(hog.ctx.errorCodes(send(hog))).toEqual(["OVERLOADED"]);
  });

  it("a waiting request the consumer cancels leaves the queue at once, and nothing reaches the provider", () => {
    const { router, consumer, provider, send, fromConsumer, respond } = setUp();
    const c = consumer();
    const p = provider(1);
    send(c, "in flight");
    const waiting = send(c, "cancelled");
    fromConsumer(c, FrameType.CANCEL, waiting);
    expect([router.queued, router.queuedBytes]).toEqual([0, 0]);
    respond(p, p.ctx.of(FrameType.START)[0]!);
    expect(p.ctx.of(FrameType.START)).toHaveLength(1);
    expect(c.ctx.errorCodes(waiting)).toEqual([]);
  });

  it("refuses with the queue's own OVERLOADED once maxQueuedRequests wait, whatever the shares", () => {
    const { router, consumer, provider, send } = setUp({ maxQueuedRequests: 2, queueShareFloor: 2 });
    const c = consumer();
    provider(1);
    send(c, "in flight");
    send(c);
    send(c);
    const refused = send(c);
    expect(router.queued).toBe(2);
    expect(c.ctx.errorCodes(refused)).toEqual(["OVERLOADED"]);
    expect(decodeErrorBody(c.ctx.of(FrameType.ERROR)[0]!.payload).message).toBe(WAIT_QUEUE_FULL.requests.message);
  });

  it("counts a waiting request's CHUNKs against the consumer's share of queued bytes, failing the request that passes it", () => {
    const { router, consumer, provider, send, fromConsumer } = setUp({ maxQueuedRequestBytes: 100, queueShareFloorBytes: 1 });
    const c = consumer();
    const p = provider(1);
    send(c, "in flight");
    const waiting = send(c, "", 0, true);
    fromConsumer(c, FrameType.CHUNK, waiting, Buffer.alloc(40)); // 4 (head) + 40 ≤ 100 / 2
    expect(c.ctx.sent).toHaveLength(0);
    fromConsumer(c, FrameType.CHUNK, waiting, Buffer.alloc(10));
    expect(c.ctx.errorCodes(waiting)).toEqual(["OVERLOADED"]);
    expect([router.queued, router.queuedBytes]).toEqual([0, 0]);
    expect(p.ctx.sent).toHaveLength(1); // the waiting request never reached the provider
  });
});

describe("Router: deadlines", () => {
  it("a request in flight past its deadline gets TIMEOUT; its provider gets CANCEL and a PING probe", async () => {
    const { router, consumer, provider, send } = setUp({ pingTimeout: 1234 });
    const c = consumer();
    const p = provider();
    const id = send(c, "slow", 30);
    await vi.waitFor(() => expect(c.ctx.errorCodes(id)).toEqual(["TIMEOUT"]), { timeout: 5000, interval: 10 });
    const [start] = p.ctx.of(FrameType.START);
    expect(p.ctx.of(FrameType.CANCEL).map((f) => f.requestId.equals(start!.requestId))).toEqual([true]);
    expect(p.ctx.probes).toEqual([1234]);
    expect([router.inFlight, router.live]).toEqual([0, 0]);
  });

  it("a request that waits past its deadline gets TIMEOUT and leaves the queue without reaching a provider", async () => {
    const { router, consumer, provider, send, respond } = setUp();
    const c = consumer();
    const p = provider(1);
    send(c, "holds the provider", 60_000);
    const waiting = send(c, "waits", 30);
    expect(router.queued).toBe(1);
    await vi.waitFor(() => expect(c.ctx.errorCodes(waiting)).toEqual(["TIMEOUT"]), { timeout: 5000, interval: 10 });
    expect(router.queued).toBe(0);
    respond(p, p.ctx.of(FrameType.START)[0]!);
    expect(p.ctx.of(FrameType.START)).toHaveLength(1);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(0); // never sent, so nothing to cancel
  });

  it("a request without a timeout takes the consumer's registered default, else the broker's requestTimeout", () => {
    const { consumer, provider, send } = setUp({ requestTimeout: 4000 });
    const c = consumer();
    const p = provider(2);
    send(c, "broker default");
    c.defaultTimeoutMs = 2000;
    send(c, "consumer default");
    const [first, second] = p.ctx.of(FrameType.START).map((start) => start.payload.readUInt32BE(ROUTING_HEADER_SIZE));
    expect(first).toBeGreaterThan(3000);
    expect(first).toBeLessThanOrEqual(4000);
    expect(second).toBeGreaterThan(1000);
    expect(second).toBeLessThanOrEqual(2000);
  });
});

describe("Router: peers leaving", () => {
  it("a provider that leaves fails its requests with PROVIDER_GONE; as the channel's last, the waiting ones with NO_PROVIDER", () => {
    const { router, consumer, provider, providerLeaves, send } = setUp();
    const c = consumer();
    const p = provider(1);
    const held = send(c);
    const waiting = send(c);
    providerLeaves(p);
    expect(c.ctx.errorCodes(held)).toEqual(["PROVIDER_GONE"]);
    expect(c.ctx.errorCodes(waiting)).toEqual(["NO_PROVIDER"]);
    expect([router.live, router.queued, router.inFlight]).toEqual([0, 0, 0]);
  });

  it("a provider that leaves while another stays: its requests fail, the waiting ones stay for the other", () => {
    const { router, consumer, provider, providerLeaves, send, respond } = setUp();
    const c = consumer();
    const a = provider(1);
    const b = provider(1);
    const onA = send(c, "a");
    send(c, "b");
    const waiting = send(c, "waits");
    const onB = b.ctx.of(FrameType.START)[0]!;
    providerLeaves(a);
    expect(c.ctx.errorCodes(onA)).toEqual(["PROVIDER_GONE"]);
    expect(c.ctx.errorCodes(waiting)).toEqual([]);
    expect(router.queued).toBe(1);
    respond(b, onB);
    expect(bodyOf(b.ctx.of(FrameType.START)[1]!)).toBe("waits");
  });

  it("a consumer that leaves: its requests are cancelled at their providers, its waiting ones dropped, and the freed capacity serves others", () => {
    const { router, consumer, consumerLeaves, provider, send } = setUp();
    const leaving = consumer();
    const staying = consumer();
    const p = provider(1);
    send(leaving, "in flight");
    send(leaving, "waiting");
    send(staying, "next");
    expect(router.queued).toBe(2);
    consumerLeaves(leaving);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(1);
    expect(leaving.ctx.sent).toHaveLength(0); // it is gone: nothing is sent to it
    expect(p.ctx.of(FrameType.START).map(bodyOf)).toEqual(["in flight", "next"]);
    expect(router.queued).toBe(0);
  });

  it("a provider joining serves the requests that waited for capacity", () => {
    const { router, consumer, provider, send } = setUp();
    const c = consumer();
    const busy = provider(1);
    send(c, "busy");
    send(c, "waited");
    expect(router.queued).toBe(1);
    const fresh = provider(1);
    expect(fresh.ctx.of(FrameType.START).map(bodyOf)).toEqual(["waited"]);
    expect(busy.ctx.of(FrameType.START)).toHaveLength(1);
    expect(router.queued).toBe(0);
  });
});

describe("Router: flow control (1.1, docs/protocol.md §1.20)", () => {
  const MiB = 1024 * 1024;
  const piece = (size: number, fill = 1) => Buffer.alloc(size, fill);
  /** Body bytes a provider (or consumer) got in frames of `types`, START's after its routing header and head. */
  const bodyBytes = (peer: FakePeer, ...types: FrameType[]) =>
    peer.ctx.sent.filter((f) => types.includes(f.type)).reduce((sum, f) => sum + f.payload.length - (f.type === FrameType.START ? ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE : 0), 0);

  it("forwards a 1.1 consumer's stream within the provider's credit, holds the rest (never more than one window), and grants the consumer credit only as it forwards", () => {
    const { router, consumer, provider, send, fromConsumer, fromProvider } = setUp({ streamWindowBytes: MiB });
    const c = consumer(MiB);
    const p = provider(1, MiB);
    const id = send(c, "", 0, true);
    const providerId = p.ctx.of(FrameType.START)[0]!.requestId;
    for (let i = 0; i < 4; i++) fromConsumer(c, FrameType.CHUNK, id, piece(MiB / 4));
    expect(bodyBytes(p, FrameType.CHUNK)).toBe(MiB); // the provider's whole window
    expect(c.ctx.credits()).toEqual([MiB / 2, MiB / 2]); // given back as forwarded, in half-window batches
    for (let i = 0; i < 4; i++) fromConsumer(c, FrameType.CHUNK, id, piece(MiB / 4, 2));
    expect(bodyBytes(p, FrameType.CHUNK)).toBe(MiB); // the provider has no credit: held
    expect(router.streamHeldBytes).toBe(MiB);
    expect(c.ctx.credits()).toHaveLength(2); // nothing granted for bytes the broker holds
    fromConsumer(c, FrameType.END, id);
    expect(p.ctx.of(FrameType.END)).toHaveLength(0); // END waits behind the held bytes
    fromProvider(p, FrameType.CREDIT, providerId, encodeCredit(MiB / 2 + 1000));
    expect(bodyBytes(p, FrameType.CHUNK)).toBe(MiB + MiB / 2 + 1000); // cut to the credit
    expect(router.streamHeldBytes).toBe(MiB / 2 - 1000);
    fromProvider(p, FrameType.CREDIT, providerId, encodeCredit(MiB));
    expect(bodyBytes(p, FrameType.CHUNK)).toBe(2 * MiB);
    expect(p.ctx.of(FrameType.END)).toHaveLength(1);
    expect(router.streamHeldBytes).toBe(0);
    expect(c.ctx.credits()).toEqual([MiB / 2, MiB / 2]); // the body had ended: no credit after its END
  });

  it("ends a request whose consumer sends past its credit with FLOW_CONTROL_ERROR and CANCEL, and that request only", () => {
    const { router, consumer, provider, send, fromConsumer, respond } = setUp({ streamWindowBytes: MiB });
    const c = consumer(MiB);
    const p = provider(2, MiB);
    const id = send(c, "", 0, true);
    const other = send(c, "still here");
    fromConsumer(c, FrameType.CHUNK, id, piece(MiB)); // forwarded: its credit comes back
    fromConsumer(c, FrameType.CHUNK, id, piece(MiB)); // held: the provider granted nothing
    expect(c.ctx.errorCodes(id)).toEqual([]);
    fromConsumer(c, FrameType.CHUNK, id, piece(1)); // one byte past the window
    expect(c.ctx.errorCodes(id)).toEqual(["FLOW_CONTROL_ERROR"]);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(1);
    expect(router.streamHeldBytes).toBe(0);
    expect(c.violations).toEqual([]);
    respond(p, p.ctx.of(FrameType.START)[1]!, "fine");
    expect(c.ctx.of(FrameType.RESPONSE).map((f) => [f.requestId.equals(other), f.payload.toString()])).toEqual([[true, "fine"]]);
  });

  it("holds a response for a 1.1 consumer that grants nothing to one window, sends RESPONSE_END behind it, and credits the provider only as it forwards", () => {
    const { router, consumer, provider, send, fromConsumer, fromProvider } = setUp({ streamWindowBytes: MiB });
    const c = consumer(MiB);
    const p = provider(1, MiB);
    const id = send(c, "give");
    const start = p.ctx.of(FrameType.START)[0]!;
    fromProvider(p, FrameType.RESPONSE_START, start.requestId, start.payload.subarray(0, ROUTING_HEADER_SIZE));
    for (let i = 0; i < 8; i++) fromProvider(p, FrameType.RESPONSE_CHUNK, start.requestId, piece(MiB / 4));
    expect(bodyBytes(c, FrameType.RESPONSE_CHUNK)).toBe(MiB);
    expect(router.streamHeldBytes).toBe(MiB);
    expect(p.ctx.credits()).toEqual([MiB / 2, MiB / 2]);
    fromProvider(p, FrameType.RESPONSE_END, start.requestId);
    expect(c.ctx.of(FrameType.RESPONSE_END)).toHaveLength(0);
    fromConsumer(c, FrameType.CREDIT, id, encodeCredit(MiB));
    expect(bodyBytes(c, FrameType.RESPONSE_CHUNK)).toBe(2 * MiB);
    expect(c.ctx.of(FrameType.RESPONSE_END)).toHaveLength(1);
    expect([router.streamHeldBytes, router.live, router.counters.completed]).toEqual([0, 0, 1]);
  });

  it("ends a response its provider sends past its credit with FLOW_CONTROL_ERROR to both sides, no CANCEL, its connection open", () => {
    const { consumer, provider, send, fromProvider } = setUp({ streamWindowBytes: MiB });
    const c = consumer(MiB);
    const p = provider(1, MiB);
    const id = send(c, "give");
    const start = p.ctx.of(FrameType.START)[0]!;
    fromProvider(p, FrameType.RESPONSE_START, start.requestId, start.payload.subarray(0, ROUTING_HEADER_SIZE));
    // the consumer's window is the limit of what goes on; the broker's own window of what it takes
    fromProvider(p, FrameType.RESPONSE_CHUNK, start.requestId, piece(MiB));
    fromProvider(p, FrameType.RESPONSE_CHUNK, start.requestId, piece(MiB));
    fromProvider(p, FrameType.RESPONSE_CHUNK, start.requestId, piece(1));
    expect(c.ctx.errorCodes(id)).toEqual(["FLOW_CONTROL_ERROR"]);
    expect(p.ctx.errorCodes(start.requestId)).toEqual(["FLOW_CONTROL_ERROR"]);
    expect(p.ctx.of(FrameType.CANCEL)).toHaveLength(0);
    expect(p.violations).toEqual([]);
  });

  it("treats CREDIT on a 1.0 connection, on the zero id or with a payload not 4 bytes as a protocol violation, and ignores 0 and credit for what is not streaming", () => {
    const { consumer, provider, send, fromConsumer, fromProvider } = setUp();
    const old = consumer();
    fromConsumer(old, FrameType.CREDIT, newId(), encodeCredit(1));
    expect(old.violations).toHaveLength(1);
    const c = consumer(MiB);
    const p = provider(1, MiB);
    fromConsumer(c, FrameType.CREDIT, Buffer.alloc(16), encodeCredit(1));
    fromConsumer(c, FrameType.CREDIT, newId(), Buffer.alloc(3));
    expect(c.violations).toHaveLength(2);
    const fresh = consumer(MiB);
    const id = send(fresh, "x", 0, true);
    fromConsumer(fresh, FrameType.CREDIT, id, encodeCredit(5)); // its response has not begun
    fromConsumer(fresh, FrameType.CREDIT, newId(), encodeCredit(5)); // no such request
    fromConsumer(fresh, FrameType.CREDIT, id, Buffer.alloc(4)); // 0
    fromProvider(p, FrameType.CREDIT, newId(), encodeCredit(5)); // not a request it holds
    expect([fresh.violations, p.violations, fresh.ctx.errorCodes(), p.ctx.errorCodes()]).toEqual([[], [], [], []]);
  });

  it("lets a stream flow-controlled on both hops pass maxRequestBytes, and refuses one over it bound for a 1.0 provider", () => {
    const { consumer, provider, send, fromConsumer, fromProvider } = setUp({ streamWindowBytes: MiB, maxRequestBytes: MiB / 2 });
    const c = consumer(MiB);
    const p = provider(1, MiB);
    const id = send(c, "", 0, true);
    const providerId = p.ctx.of(FrameType.START)[0]!.requestId;
    for (let i = 0; i < 3; i++) {
      fromConsumer(c, FrameType.CHUNK, id, piece(MiB));
      fromProvider(p, FrameType.CREDIT, providerId, encodeCredit(MiB));
    }
    expect(c.ctx.errorCodes(id)).toEqual([]);
    expect(bodyBytes(p, FrameType.CHUNK)).toBe(3 * MiB);

    const old = setUp({ streamWindowBytes: MiB, maxRequestBytes: MiB / 2 });
    const c2 = old.consumer(MiB);
    const p2 = old.provider(1); // speaks 1.0
    const id2 = old.send(c2, "", 0, true);
    old.fromConsumer(c2, FrameType.CHUNK, id2, piece(MiB / 2 + 1));
    expect(c2.ctx.errorCodes(id2)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(p2.ctx.of(FrameType.CANCEL)).toHaveLength(1);
  });
});

describe("Router: a provider's capacity changed by CAPACITY (§1.21)", () => {
  it("raised, dispatches the requests waiting for capacity at once, in order", () => {
    const { router, consumer, provider, send, capacity } = setUp();
    const c = consumer();
    const p = provider(1);
    for (const body of ["a", "b", "c"]) send(c, body);
    expect([router.queued, p.ctx.of(FrameType.START).length]).toEqual([2, 1]);
    capacity(p, 3);
    expect(p.capacity).toBe(3);
    expect(router.queued).toBe(0);
    expect(p.ctx.of(FrameType.START).map(bodyOf)).toEqual(["a", "b", "c"]);
  });

  it("lowered, lets the requests in flight finish and sends no more until the provider is under it", () => {
    const { router, consumer, provider, send, respond, capacity } = setUp();
    const c = consumer();
    const p = provider(3);
    for (const body of ["a", "b", "c"]) send(c, body);
    capacity(p, 1);
    send(c, "d");
    expect([router.inFlight, router.queued]).toEqual([3, 1]);
    const [a, b, cc] = p.ctx.of(FrameType.START);
    respond(p, a!);
    respond(p, b!);
    expect([router.inFlight, router.queued]).toEqual([1, 1]); // at the new capacity: d still waits
    respond(p, cc!);
    expect([router.inFlight, router.queued]).toEqual([1, 0]);
    expect(bodyOf(p.ctx.of(FrameType.START)[3]!)).toBe("d");
    expect(c.ctx.of(FrameType.RESPONSE)).toHaveLength(3);
  });

  it("0 pauses the provider: requests wait (no NO_PROVIDER, it is still registered) until its capacity rises", () => {
    const { router, consumer, provider, send, capacity } = setUp();
    const c = consumer();
    const p = provider(2);
    capacity(p, 0);
    const id = send(c, "held");
    expect(c.ctx.errorCodes(id)).toEqual([]);
    expect([router.queued, p.ctx.sent.length]).toEqual([1, 0]);
    capacity(p, 1);
    expect(p.ctx.of(FrameType.START).map(bodyOf)).toEqual(["held"]);
  });

  it("sends the waiting requests to whichever provider has room: one raising its capacity takes them while another stays full", () => {
    const { consumer, provider, send, capacity } = setUp();
    const c = consumer();
    const full = provider(1);
    const idle = provider(1);
    capacity(idle, 0);
    for (const body of ["a", "b", "c"]) send(c, body);
    expect(full.ctx.of(FrameType.START)).toHaveLength(1);
    capacity(idle, 2);
    expect(idle.ctx.of(FrameType.START).map(bodyOf)).toEqual(["b", "c"]);
  });

  it("refuses a CAPACITY that is not 4 bytes, off the all-zero requestId, or on a 1.0 connection as a protocol violation, changing nothing else", () => {
    const { router, consumer, provider, send, fromProvider } = setUp();
    const c = consumer();
    const bystander = provider(1);
    const cases: Array<[FakePeer, Buffer, Buffer, RegExp]> = [];
    const short = provider(1);
    cases.push([short, Buffer.alloc(16), Buffer.from("000002", "hex"), /CAPACITY payload is 4 bytes, got 3/]);
    const long = provider(1);
    cases.push([long, Buffer.alloc(16), Buffer.from("0000000200", "hex"), /CAPACITY payload is 4 bytes, got 5/]);
    const offId = provider(1);
    cases.push([offId, newId(), encodeCapacity(2), /all-zero requestId/]);
    const old = provider(1, null, 0);
    cases.push([old, Buffer.alloc(16), encodeCapacity(2), /protocol 1.1 frame and this connection negotiated 1.0/]);
    for (let i = 0; i < 5; i++) send(c, `r${i}`); // one each to the bystander and the four
    expect(router.inFlight).toBe(5);
    for (const [peer, requestId, payload, why] of cases) {
      fromProvider(peer, FrameType.CAPACITY, requestId, payload);
      expect(peer.violations).toEqual([expect.stringMatching(why)]);
      expect(peer.capacity).toBe(1);
    }
    expect(bystander.violations).toEqual([]);
    expect([router.inFlight, router.live, router.queued]).toEqual([5, 5, 0]);
    expect(c.ctx.of(FrameType.ERROR)).toEqual([]);
  });

  it("refuses CAPACITY from a consumer as a protocol violation, changing nothing", () => {
    const { router, consumer, provider, send, fromConsumer } = setUp();
    const c = consumer();
    const p = provider(1);
    send(c, "kept");
    fromConsumer(c, FrameType.CAPACITY, Buffer.alloc(16), encodeCapacity(5));
    expect(c.violations).toEqual(["a consumer may not send frame type 13"]);
    expect([p.capacity, router.inFlight]).toEqual([1, 1]);
  });
});
