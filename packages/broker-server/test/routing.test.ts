import {
  encodeErrorBody,
  encodeRequestHead,
  type Frame,
  FrameFlags,
  FrameType,
  MAX_PAYLOAD,
  newId,
  REQUEST_HEAD_SIZE,
  ROUTING_HEADER_SIZE,
} from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import { RawClient } from "@switchyard/testing";

const h = useBrokerHarness();

/** The body of a START a provider received: after the routing header and the 4-byte head. */
function bodyOf(start: Frame): string {
  return start.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE).toString();
}

function timeoutOf(start: Frame): number {
  return start.payload.readUInt32BE(ROUTING_HEADER_SIZE);
}

describe("routing requests", () => {
  it("answers NO_PROVIDER at once when the channel has no provider", async () => {
    const server = await h.start();
    const consumer = await h.consumer(server, newId());
    const id = consumer.request("anyone?");
    expect((await consumer.nextError(id)).code).toBe("NO_PROVIDER");
    expect(server.stats()).toMatchObject({ inFlight: 0, queued: 0, requests: 0 });
    await h.expectHealthy(server);
  });

  it("forwards START|FINAL to the provider with the routing header in front and the time left as timeoutMs", async () => {
    const { server, channelId, provider, consumer } = await h.pair();
    consumer.request("hello", 3001); // not a multiple of its deadline lane (3008): the provider sees what was asked
    const start = await provider.nextOf(FrameType.START);
    expect(start.flags & FrameFlags.FINAL).toBe(FrameFlags.FINAL);
    expect(RawClient.routingOf(start).equals(Buffer.concat([consumer.clientId, channelId]))).toBe(true);
    expect(timeoutOf(start)).toBeGreaterThan(2000);
    expect(timeoutOf(start)).toBeLessThanOrEqual(3001);
    expect(bodyOf(start)).toBe("hello");
    expect(server.stats()).toMatchObject({ inFlight: 1, requests: 1 });
  });

  it("uses the consumer's registered timeout for timeoutMs 0, else the broker's default", async () => {
    const server = await h.start({ requestTimeout: 4000 });
    const channelId = newId();
    const provider = await h.provider(server, channelId);
    const withDefault = await h.consumer(server, channelId, { timeoutMs: 1500 });
    const without = await h.consumer(server, channelId);
    withDefault.request("a", 0);
    const first = await provider.nextOf(FrameType.START);
    expect(timeoutOf(first)).toBeGreaterThan(1000);
    expect(timeoutOf(first)).toBeLessThanOrEqual(1500);
    without.request("b", 0);
    const second = await provider.nextOf(FrameType.START);
    expect(timeoutOf(second)).toBeGreaterThan(3000);
    expect(timeoutOf(second)).toBeLessThanOrEqual(4000);
  });

  it("forwards a streamed START, CHUNKs and END in order", async () => {
    const { provider, consumer } = await h.pair();
    const id = newId();
    consumer.send(FrameType.START, 0, id, encodeRequestHead(2000), Buffer.from("part0|"));
    for (let i = 1; i <= 20; i++) consumer.send(FrameType.CHUNK, 0, id, Buffer.from(`part${i}|`));
    consumer.send(FrameType.END, 0, id);
    const start = await provider.nextOf(FrameType.START);
    expect(start.flags & FrameFlags.FINAL).toBe(0);
    let body = bodyOf(start);
    for (let i = 1; i <= 20; i++) {
      const chunk = await provider.next();
      expect(chunk.type).toBe(FrameType.CHUNK);
      expect(chunk.requestId.equals(start.requestId)).toBe(true);
      body += chunk.payload.toString();
    }
    const end = await provider.next();
    expect(end.type).toBe(FrameType.END);
    expect(end.requestId.equals(start.requestId)).toBe(true);
    expect(body).toBe(Array.from({ length: 21 }, (_, i) => `part${i}|`).join(""));
    provider.respond(start, "got it");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("got it");
  });

  it("forwards a START|FINAL that fills a whole frame as START + CHUNK + END, since the routing header no longer fits (regression)", async () => {
    const { provider, consumer } = await h.pair();
    const id = newId();
    const body = Buffer.alloc(MAX_PAYLOAD - REQUEST_HEAD_SIZE, 0x5a);
    body.write("first", 0);
    body.write("last", body.length - 4);
    consumer.send(FrameType.START, FrameFlags.FINAL, id, encodeRequestHead(5000), body);
    const start = await provider.nextOf(FrameType.START);
    expect(start.flags & FrameFlags.FINAL).toBe(0);
    const chunk = await provider.next();
    expect(chunk.type).toBe(FrameType.CHUNK);
    const end = await provider.next();
    expect(end.type).toBe(FrameType.END);
    const received = Buffer.concat([start.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE), chunk.payload]);
    expect(received.equals(body)).toBe(true);
    provider.respond(start, "whole");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("whole");
  });

  it("gives each request its own provider-side id, so two consumers using the same requestId never collide at a provider", async () => {
    const server = await h.start();
    const channelId = newId();
    const provider = await h.provider(server, channelId);
    const a = await h.consumer(server, channelId);
    const b = await h.consumer(server, channelId);
    const sharedId = newId();
    a.request("from a", 0, sharedId);
    b.request("from b", 0, sharedId);
    const first = await provider.nextOf(FrameType.START);
    const second = await provider.nextOf(FrameType.START);
    expect(first.requestId.equals(second.requestId)).toBe(false);
    // answer in reverse order: each answer reaches the consumer that asked, under its own id
    provider.respond(second, `re: ${bodyOf(second)}`);
    provider.respond(first, `re: ${bodyOf(first)}`);
    expect((await a.nextOf(FrameType.RESPONSE, sharedId)).payload.toString()).toBe("re: from a");
    expect((await b.nextOf(FrameType.RESPONSE, sharedId)).payload.toString()).toBe("re: from b");
  });
});

describe("routing responses", () => {
  it("forwards a RESPONSE with the routing header stripped, under the consumer's requestId", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("question");
    provider.respond(await provider.nextOf(FrameType.START), "answer");
    const response = await consumer.nextOf(FrameType.RESPONSE);
    expect(response.requestId.equals(id)).toBe(true);
    expect(response.payload.toString()).toBe("answer");
    expect(server.stats()).toMatchObject({ inFlight: 0, completed: 1 });
  });

  it("forwards RESPONSE_START, RESPONSE_CHUNKs and RESPONSE_END in order, the header stripped from the first", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("stream me");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE_START, 0, start.requestId, RawClient.routingOf(start), Buffer.from("r0|"));
    for (let i = 1; i <= 10; i++) provider.send(FrameType.RESPONSE_CHUNK, 0, start.requestId, Buffer.from(`r${i}|`));
    provider.send(FrameType.RESPONSE_END, 0, start.requestId);
    const frames: Frame[] = [];
    for (let i = 0; i < 12; i++) frames.push(await consumer.next());
    expect(frames.map((f) => f.type)).toEqual([FrameType.RESPONSE_START, ...Array(10).fill(FrameType.RESPONSE_CHUNK), FrameType.RESPONSE_END]);
    expect(frames.every((f) => f.requestId.equals(id))).toBe(true);
    expect(frames.map((f) => f.payload.toString()).join("")).toBe(Array.from({ length: 11 }, (_, i) => `r${i}|`).join(""));
    expect(server.stats()).toMatchObject({ inFlight: 0, completed: 1 });
  });

  it("forwards a provider's ERROR with the routing header stripped", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("fail please");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.ERROR, 0, start.requestId, RawClient.routingOf(start), encodeErrorBody({ wireCode: 7, message: "handler blew up" }));
    const error = await consumer.nextError(id);
    expect(error.code).toBe("HANDLER_ERROR");
    expect(error.message).toBe("handler blew up");
    expect(server.stats().inFlight).toBe(0);
  });

  it("answers BAD_ROUTE to a provider that forges the routing header, and the consumer never sees it", async () => {
    const { server, channelId, provider, consumer } = await h.pair();
    const id = consumer.request("real");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE, 0, start.requestId, RawClient.routing(newId(), channelId), Buffer.from("forged"));
    expect((await provider.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    await consumer.expectNothing();
    // the real request is still in flight and the genuine answer gets through
    provider.respond(start, "genuine");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("genuine");
    await h.expectHealthy(server);
  });

  it("answers BAD_ROUTE to a provider answering a request it does not hold", async () => {
    const server = await h.start();
    const channelId = newId();
    const holder = await h.provider(server, channelId);
    const other = await h.provider(server, newId());
    const consumer = await h.consumer(server, channelId);
    const id = consumer.request("for holder only");
    const start = await holder.nextOf(FrameType.START);
    // another provider copies the exact ids and header it should not know
    other.respond(start, "hijack");
    expect((await other.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    // a response to a request that never existed, and a chunk without RESPONSE_START
    const made = newId();
    holder.send(FrameType.RESPONSE, 0, made, RawClient.routing(consumer.clientId, channelId), Buffer.from("x"));
    expect((await holder.nextError(made)).code).toBe("BAD_ROUTE");
    holder.send(FrameType.RESPONSE_CHUNK, 0, start.requestId, Buffer.from("x"));
    expect((await holder.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    await consumer.expectNothing();
    holder.respond(start, "mine");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("mine");
    // answering again once the request is settled is BAD_ROUTE too
    holder.respond(start, "twice");
    expect((await holder.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    expect(server.stats().errorsSent.BAD_ROUTE).toBe(4);
  });
});

describe("load balancing", () => {
  it("never gives a provider more than its declared capacity, queues the rest, and dispatches as capacity frees", async () => {
    const { server, provider, consumer } = await h.pair({}, { capacity: 2 });
    const ids = Array.from({ length: 5 }, (_, i) => consumer.request(`r${i}`, 5000));
    const first = await provider.nextOf(FrameType.START);
    const second = await provider.nextOf(FrameType.START);
    await provider.expectNothing((frame) => frame.type === FrameType.START);
    expect(server.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    provider.respond(first, "done");
    const third = await provider.nextOf(FrameType.START);
    expect(bodyOf(third)).toBe("r2"); // first come, first served
    expect(server.stats()).toMatchObject({ inFlight: 2, queued: 2 });
    for (const start of [second, third]) provider.respond(start, "done");
    for (let i = 0; i < 2; i++) provider.respond(await provider.nextOf(FrameType.START), "done");
    for (const id of ids) expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("done");
    expect(server.stats()).toMatchObject({ inFlight: 0, queued: 0, queuedRequestBytes: 0 });
  });

  it("sends each request to the provider with the fewest in flight, equal ones taking turns", async () => {
    const server = await h.start();
    const channelId = newId();
    const providers = [await h.provider(server, channelId), await h.provider(server, channelId), await h.provider(server, channelId)];
    const consumer = await h.consumer(server, channelId);
    // round-robin over idle equals: 6 requests → 2 each
    for (let i = 0; i < 6; i++) consumer.request(`q${i}`);
    const held: Frame[][] = [];
    for (const provider of providers) {
      held.push([await provider.nextOf(FrameType.START), await provider.nextOf(FrameType.START)]);
      await provider.expectNothing((frame) => frame.type === FrameType.START, 50);
    }
    // provider 1 finishes both: it is now the least loaded and takes the next two
    for (const start of held[1]!) providers[1]!.respond(start, "ok");
    for (let i = 0; i < 2; i++) await consumer.nextOf(FrameType.RESPONSE);
    consumer.request("next-a");
    consumer.request("next-b");
    expect(bodyOf(await providers[1]!.nextOf(FrameType.START))).toBe("next-a");
    expect(bodyOf(await providers[1]!.nextOf(FrameType.START))).toBe("next-b");
    await providers[0]!.expectNothing((frame) => frame.type === FrameType.START, 50);
    await providers[2]!.expectNothing((frame) => frame.type === FrameType.START, 50);
  });

  it("keeps two channels apart: each provider sees only its channel's requests", async () => {
    const server = await h.start();
    const red = newId();
    const blue = newId();
    const redProvider = await h.provider(server, red);
    const blueProvider = await h.provider(server, blue);
    const redConsumer = await h.consumer(server, red);
    const blueConsumer = await h.consumer(server, blue);
    for (let i = 0; i < 5; i++) {
      redConsumer.request(`red${i}`);
      blueConsumer.request(`blue${i}`);
    }
    for (let i = 0; i < 5; i++) {
      const r = await redProvider.nextOf(FrameType.START);
      const b = await blueProvider.nextOf(FrameType.START);
      expect(bodyOf(r)).toBe(`red${i}`);
      expect(bodyOf(b)).toBe(`blue${i}`);
      redProvider.respond(r, "R");
      blueProvider.respond(b, "B");
    }
    for (let i = 0; i < 5; i++) {
      expect((await redConsumer.nextOf(FrameType.RESPONSE)).payload.toString()).toBe("R");
      expect((await blueConsumer.nextOf(FrameType.RESPONSE)).payload.toString()).toBe("B");
    }
    await redConsumer.expectNothing();
    await blueConsumer.expectNothing();
  });
});
