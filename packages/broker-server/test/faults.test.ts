import { encodeFrame, encodeRequestHead, FrameFlags, FrameType, newId, REQUEST_HEAD_SIZE, ROUTING_HEADER_SIZE } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import { RawClient } from "@switchyard/testing";

const h = useBrokerHarness();

describe("deadlines and cancellation", () => {
  it("answers TIMEOUT at the deadline and then sends CANCEL to the provider", async () => {
    const { server, provider, consumer } = await h.pair();
    const startedAt = performance.now();
    const id = consumer.request("slow one", 200);
    const start = await provider.nextOf(FrameType.START);
    expect((await consumer.nextError(id)).code).toBe("TIMEOUT");
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    expect(server.stats()).toMatchObject({ inFlight: 0, errorsSent: expect.objectContaining({ TIMEOUT: 1 }) });
    // a late answer is refused and reaches nobody
    provider.respond(start, "too late");
    expect((await provider.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    await consumer.expectNothing();
    await h.expectHealthy(server);
  });

  it("times out a request still waiting in the queue, without bothering any provider", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    consumer.request("holds the only slot", 5000);
    const waiting = consumer.request("waits", 150);
    await provider.nextOf(FrameType.START);
    expect((await consumer.nextError(waiting)).code).toBe("TIMEOUT");
    expect(server.stats()).toMatchObject({ queued: 0, queuedRequestBytes: 0, inFlight: 1 });
    await provider.expectNothing();
  });

  it("never forwards a waiting request whose deadline passed while it waited, when capacity frees in the turn it expires", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    const occupier = consumer.request("holds the only slot", 200);
    const start = await provider.nextOf(FrameType.START);
    const waiting = consumer.request("waits", 200); // same 200 ms lane, behind the occupier
    await expect.poll(() => server.stats().queued).toBe(1);
    // hold this process (the broker's too) past both deadlines, so both expire in one timer run:
    // the occupier first, whose freed slot must not go to the waiting request
    const until = performance.now() + 400;
    while (performance.now() < until) {}
    expect((await consumer.nextError(occupier)).code).toBe("TIMEOUT");
    expect((await consumer.nextError(waiting)).code).toBe("TIMEOUT");
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    // nothing else but the liveness PING that a timed-out request's provider is sent
    await provider.expectNothing((frame) => frame.type !== FrameType.PING, 200);
    expect(server.stats()).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it("cancels every request of a consumer that leaves at its provider, even more than the provider's write queue holds in frames (regression: CANCELs dropped)", async () => {
    const { server, provider, consumer } = await h.pair({ maxWriteQueueFrames: 4 }, { capacity: 20 });
    const starts = [];
    for (let i = 0; i < 20; i++) {
      consumer.request("held", 30_000); // one at a time: 4 frames a turn is all the provider's queue takes
      starts.push(await provider.nextOf(FrameType.START));
    }
    consumer.destroy(); // the broker settles all 20 in one turn, each with a CANCEL to the provider
    for (const start of starts) await provider.nextOf(FrameType.CANCEL, start.requestId);
    await expect.poll(() => server.stats()).toMatchObject({ inFlight: 0, droppedFrames: 0 });
  });

  it("forwards a consumer's CANCEL to the provider holding the request and forgets the request", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("never mind");
    const start = await provider.nextOf(FrameType.START);
    consumer.send(FrameType.CANCEL, 0, id);
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    expect(server.stats().inFlight).toBe(0);
    await consumer.expectNothing();
    await h.expectHealthy(server);
  });

  it("drops a cancelled request from the queue before any provider sees it", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    consumer.request("first");
    const queued = consumer.request("second");
    const first = await provider.nextOf(FrameType.START);
    await expect.poll(() => server.stats().queued).toBe(1);
    consumer.send(FrameType.CANCEL, 0, queued);
    await expect.poll(() => server.stats().queued).toBe(0);
    provider.respond(first, "one");
    await consumer.nextOf(FrameType.RESPONSE);
    await provider.expectNothing();
  });

  it("cancels a consumer's requests at their providers when the consumer disconnects, and empties its queue", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    consumer.request("in flight");
    consumer.request("queued");
    const start = await provider.nextOf(FrameType.START);
    consumer.destroy();
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await expect.poll(() => server.stats()).toMatchObject({ inFlight: 0, queued: 0, consumers: 0 });
    await provider.expectNothing((frame) => frame.type === FrameType.START);
    await h.expectHealthy(server);
  });
});

describe("faults", () => {
  it("fails the requests of a provider whose socket is destroyed with PROVIDER_GONE at once", async () => {
    const server = await h.start();
    const channelId = newId();
    const doomed = await h.provider(server, channelId);
    const consumer = await h.consumer(server, channelId);
    const ids = [consumer.request("a", 30_000), consumer.request("b", 30_000)];
    await doomed.nextOf(FrameType.START);
    await doomed.nextOf(FrameType.START);
    const startedAt = performance.now();
    doomed.destroy();
    for (const id of ids) expect((await consumer.nextError(id)).code).toBe("PROVIDER_GONE");
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect(server.stats()).toMatchObject({ inFlight: 0, providers: 0 });
    // the consumer's connection is untouched: a new provider serves it
    const replacement = await h.provider(server, channelId);
    const id = consumer.request("again");
    replacement.respond(await replacement.nextOf(FrameType.START), "fine");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("fine");
  });

  it("fails requests waiting for capacity with NO_PROVIDER when the channel's last provider leaves", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    const held = consumer.request("held");
    const waiting = consumer.request("waiting");
    await provider.nextOf(FrameType.START);
    provider.destroy();
    expect((await consumer.nextError(held)).code).toBe("PROVIDER_GONE");
    expect((await consumer.nextError(waiting)).code).toBe("NO_PROVIDER");
    expect(server.stats()).toMatchObject({ queued: 0, inFlight: 0, channels: 1 });
  });

  it("moves waiting requests to another provider of the channel when capacity frees there", async () => {
    const server = await h.start();
    const channelId = newId();
    const consumer = await h.consumer(server, channelId);
    const first = await h.provider(server, channelId, { capacity: 1 });
    consumer.request("one");
    const queued = consumer.request("two");
    await first.nextOf(FrameType.START);
    await expect.poll(() => server.stats().queued).toBe(1);
    const second = await h.provider(server, channelId, { capacity: 1 });
    const start = await second.nextOf(FrameType.START);
    second.respond(start, "served by the newcomer");
    expect((await consumer.nextOf(FrameType.RESPONSE, queued)).payload.toString()).toBe("served by the newcomer");
  });

  it("refuses with OVERLOADED when the request queue is full, and counts it", async () => {
    const { server, provider, consumer } = await h.pair({ maxQueuedRequests: 2 }, { capacity: 1 });
    const ids = Array.from({ length: 5 }, (_, i) => consumer.request(`r${i}`));
    // 1 in flight, 2 queued, 2 refused
    expect((await consumer.nextError(ids[3])).code).toBe("OVERLOADED");
    expect((await consumer.nextError(ids[4])).code).toBe("OVERLOADED");
    expect(server.stats()).toMatchObject({ inFlight: 1, queued: 2, overloaded: 2 });
    for (let i = 0; i < 3; i++) provider.respond(await provider.nextOf(FrameType.START), `ok${i}`);
    for (let i = 0; i < 3; i++) expect((await consumer.nextOf(FrameType.RESPONSE, ids[i])).payload.toString()).toBe(`ok${i}`);
    await h.expectHealthy(server);
  });

  it("refuses with OVERLOADED when the bytes held for waiting requests would pass their limit", async () => {
    const { server, provider, consumer } = await h.pair({ maxQueuedRequestBytes: 1000 }, { capacity: 1 });
    consumer.request("x");
    const small = consumer.request(Buffer.alloc(500));
    const big = consumer.request(Buffer.alloc(600));
    await provider.nextOf(FrameType.START);
    expect((await consumer.nextError(big)).code).toBe("OVERLOADED");
    expect(server.stats()).toMatchObject({ queued: 1, queuedRequestBytes: 500 + REQUEST_HEAD_SIZE });
    await consumer.expectNothing((frame) => frame.requestId.equals(small), 50);
  });

  it("buffers the CHUNKs of a waiting streamed request and forwards START, CHUNKs and END in order once dispatched", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    consumer.request("occupier");
    const occupier = await provider.nextOf(FrameType.START);
    const id = newId();
    consumer.send(FrameType.START, 0, id, encodeRequestHead(5000), Buffer.from("s|"));
    for (let i = 0; i < 5; i++) consumer.send(FrameType.CHUNK, 0, id, Buffer.from(`c${i}|`));
    consumer.send(FrameType.END, 0, id);
    await expect.poll(() => server.stats().queuedRequestBytes).toBe(REQUEST_HEAD_SIZE + 2 + 5 * 3);
    provider.respond(occupier, "free now");
    const start = await provider.nextOf(FrameType.START);
    let body = start.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE).toString();
    for (let i = 0; i < 5; i++) {
      const chunk = await provider.next();
      expect(chunk.type).toBe(FrameType.CHUNK);
      body += chunk.payload.toString();
    }
    expect((await provider.next()).type).toBe(FrameType.END);
    expect(body).toBe("s|c0|c1|c2|c3|c4|");
    expect(server.stats()).toMatchObject({ queued: 0, queuedRequestBytes: 0 });
  });

  it("completes a waiting streamed request with maxQueuedRequests: 1: its CHUNKs count only their bytes (regression: OVERLOADED on its first CHUNK)", async () => {
    const { server, provider, consumer } = await h.pair({ maxQueuedRequests: 1 }, { capacity: 1 });
    consumer.request("occupier");
    const occupier = await provider.nextOf(FrameType.START);
    const id = newId();
    consumer.send(FrameType.START, 0, id, encodeRequestHead(5000), Buffer.from("s|"));
    for (let i = 0; i < 3; i++) consumer.send(FrameType.CHUNK, 0, id, Buffer.from(`c${i}|`));
    consumer.send(FrameType.END, 0, id);
    await expect.poll(() => server.stats().queuedRequestBytes).toBe(REQUEST_HEAD_SIZE + 2 + 3 * 3);
    expect(server.stats()).toMatchObject({ queued: 1, overloaded: 0 });
    provider.respond(occupier, "free now");
    const start = await provider.nextOf(FrameType.START);
    for (let i = 0; i < 3; i++) expect((await provider.nextOf(FrameType.CHUNK)).payload.toString()).toBe(`c${i}|`);
    await provider.nextOf(FrameType.END);
    provider.respond(start, "streamed and answered");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("streamed and answered");
  });

  it("ends a waiting streamed request with OVERLOADED when a CHUNK would pass maxQueuedRequestBytes", async () => {
    const { server, provider, consumer } = await h.pair({ maxQueuedRequestBytes: 1000 }, { capacity: 1 });
    consumer.request("occupier");
    await provider.nextOf(FrameType.START);
    const id = newId();
    consumer.send(FrameType.START, 0, id, encodeRequestHead(5000), Buffer.alloc(500));
    consumer.send(FrameType.CHUNK, 0, id, Buffer.alloc(600));
    const refusal = await consumer.nextError(id);
    expect(refusal.code).toBe("OVERLOADED");
    expect(refusal.message).toMatch(/maxQueuedRequestBytes/);
    expect(server.stats()).toMatchObject({ queued: 0, queuedRequestBytes: 0 });
  });

  it("forwards a waiting request's large CHUNKs byte for byte, whether they arrived whole or gathered across reads", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 1 });
    consumer.request("occupier");
    const occupier = await provider.nextOf(FrameType.START);
    const id = newId();
    const chunks = [600_000, 5000, 1 << 20].map((size, i) => Buffer.alloc(size, 0x41 + i));
    consumer.send(FrameType.START, 0, id, encodeRequestHead(5000));
    for (const chunk of chunks) consumer.send(FrameType.CHUNK, 0, id, chunk);
    consumer.send(FrameType.END, 0, id);
    await expect.poll(() => server.stats().queuedRequestBytes, { timeout: 5000 }).toBe(REQUEST_HEAD_SIZE + (1 << 20) + 605_000);
    provider.respond(occupier, "free now");
    await provider.nextOf(FrameType.START);
    for (const chunk of chunks) {
      const forwarded = await provider.next();
      expect(forwarded.type).toBe(FrameType.CHUNK);
      expect(forwarded.payload.equals(chunk)).toBe(true);
    }
    expect((await provider.next()).type).toBe(FrameType.END);
  });

  it("answers PAYLOAD_TOO_LARGE for a request over maxRequestBytes, in one frame or streamed, and cancels it at the provider", async () => {
    const { server, provider, consumer } = await h.pair({ maxRequestBytes: 1000 });
    const whole = consumer.request(Buffer.alloc(1001));
    expect((await consumer.nextError(whole)).code).toBe("PAYLOAD_TOO_LARGE");
    const streamed = newId();
    consumer.send(FrameType.START, 0, streamed, encodeRequestHead(0), Buffer.alloc(600));
    consumer.send(FrameType.CHUNK, 0, streamed, Buffer.alloc(600));
    consumer.send(FrameType.CHUNK, 0, streamed, Buffer.alloc(600)); // dropped: already settled
    consumer.send(FrameType.END, 0, streamed);
    expect((await consumer.nextError(streamed)).code).toBe("PAYLOAD_TOO_LARGE");
    const start = await provider.nextOf(FrameType.START);
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await provider.expectNothing((frame) => frame.type === FrameType.CHUNK || frame.type === FrameType.END);
    expect(server.stats().inFlight).toBe(0);
    await h.expectHealthy(server);
  });

  it("answers PAYLOAD_TOO_LARGE for a streamed response over maxResponseBytes and cancels it at the provider", async () => {
    const { provider, consumer } = await h.pair({ maxResponseBytes: 1000 });
    const id = consumer.request("big answer please");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE_START, 0, start.requestId, RawClient.routingOf(start), Buffer.alloc(600));
    provider.send(FrameType.RESPONSE_CHUNK, 0, start.requestId, Buffer.alloc(600));
    expect((await consumer.nextOf(FrameType.RESPONSE_START, id)).payload.length).toBe(600);
    expect((await consumer.nextError(id)).code).toBe("PAYLOAD_TOO_LARGE");
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await consumer.expectNothing((frame) => frame.type === FrameType.RESPONSE_CHUNK);
  });

  it("closes a consumer that stops reading after the write timeout, its write queue bounded meanwhile, others unaffected", async () => {
    const maxWriteQueueFrames = 64;
    const server = await h.start({ writeTimeout: 300, maxWriteQueueFrames, maxWriteQueueBytes: 2 * 1024 * 1024 });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 10_000 });
    const sleeper = await h.consumer(server, channelId);
    sleeper.socket.pause(); // reads nothing from now on
    const body = Buffer.alloc(60 * 1024, 1);
    let answered = 0;
    let maxFrames = 0;
    let maxBytes = 0;
    // answer every request with 60 KiB until the sleeper's socket and queue are full and it is closed
    const pump = async () => {
      while (!sleeper.isClosed && answered < 2000) {
        for (let i = 0; i < 20; i++) sleeper.request("x", 10_000);
        for (let i = 0; i < 20; i++) {
          const start = await provider.nextOf(FrameType.START, undefined, 1000).catch(() => null);
          if (start === null) break; // the sleeper was closed before this request reached the broker
          provider.respond(start, body);
          answered++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
        const { writeQueue } = server.stats();
        maxFrames = Math.max(maxFrames, writeQueue.maxFrames);
        maxBytes = Math.max(maxBytes, writeQueue.maxBytes);
      }
    };
    await pump();
    await sleeper.waitClosed(5000);
    expect(answered).toBeLessThan(2000);
    expect(maxFrames).toBeLessThanOrEqual(maxWriteQueueFrames);
    // Regular frames stop at the byte limit plus the frame that crossed it; the OVERLOADED outcomes of
    // the refused responses go to the error queue, which refuses nothing (one per request, ~150 bytes).
    const { overloaded } = server.stats();
    expect(overloaded).toBeGreaterThan(0);
    expect(maxBytes).toBeLessThanOrEqual(2 * 1024 * 1024 + 60 * 1024 + 64 + overloaded * 256);
    await expect.poll(() => server.stats()).toMatchObject({ consumers: 0, inFlight: 0 });
    await h.expectHealthy(server);
  });

  it("stops reading a consumer that floods refusable requests without reading its errors, bounding its error queue, then closes it as a slow peer", async () => {
    const maxWriteQueueErrorFrames = 100;
    const server = await h.start({ writeTimeout: 300, maxWriteQueueErrorFrames });
    const flooder = await h.consumer(server, newId()); // no provider: every START is refused with NO_PROVIDER
    flooder.socket.pause(); // reads nothing from now on
    const batch = Buffer.concat(
      Array.from({ length: 2000 }, () => encodeFrame(FrameType.START, FrameFlags.FINAL, newId(), encodeRequestHead(0))).flat(),
    );
    let maxErrorFrames = 0;
    let sent = 0;
    // 2 000 STARTs a time, far more than loopback's buffers hold in errors, until the broker closes it
    while (!flooder.isClosed && sent < 2_000_000) {
      if (flooder.socket.write(batch)) sent += 2000;
      else await new Promise((resolve) => setTimeout(resolve, 5));
      maxErrorFrames = Math.max(maxErrorFrames, server.stats().writeQueue.maxErrorFrames);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flooder.waitClosed(5000);
    // at most the mark plus what one read holds (64 KiB of 28-byte STARTs), never refused, never unbounded
    expect(maxErrorFrames).toBeGreaterThan(0);
    expect(maxErrorFrames).toBeLessThanOrEqual(maxWriteQueueErrorFrames + Math.ceil(65_536 / 28));
    expect(sent).toBeLessThan(2_000_000);
    await expect.poll(() => server.stats().consumers).toBe(0);
    await h.expectHealthy(server);
  });
});
