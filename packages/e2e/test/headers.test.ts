import { Readable } from "node:stream";
import { Consumer } from "@switchyard/client-consumer";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  encodeRequestHead,
  FrameFlags,
  FrameType,
  idToBytes,
  newId,
} from "@switchyard/protocol";
import { FakeBroker, RawClient, rejection } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

const V1_1 = { major: 1, minor: 1 };
const hex = (literal: string) => Buffer.from(literal.replace(/\s+/g, ""), "hex");

describe("headers on requests and responses (protocol 1.1), through a broker process", () => {
  const e2e = useE2E();

  it("a consumer's headers reach the handler as ctx.headers; the handler's { body, headers } reach request(), while send() resolves the body", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const seen: Array<Record<string, string>> = [];
    await e2e.provider(address, id, (payload, ctx) => {
      seen.push({ ...ctx.headers });
      return { body: `got ${payload}`, headers: { "content-type": "text/plain", "x-echo": ctx.headers["idempotency-key"] ?? "none" } };
    });
    const consumer = await e2e.consumer(address, id);
    const reply = await consumer.request("a", { timeout: 5000, headers: { "Idempotency-Key": "k-1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
    expect(String(reply.body)).toBe("got a");
    expect({ ...reply.headers }).toEqual({ "content-type": "text/plain", "x-echo": "k-1" });
    expect(seen[0]).toEqual({ "idempotency-key": "k-1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    expect(String(await consumer.send("b", { timeout: 5000 }))).toBe("got b");
    expect(seen[1]).toEqual({}); // a request without headers has none
    expect(Object.keys((await consumer.request("c", 5000)).headers)).toEqual(["content-type", "x-echo"]);
  });

  it("headers go with streamed bodies both ways: a START without FINAL and a RESPONSE_START", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await e2e.provider(address, id, (payload, ctx) => ({
      body: Readable.from([Buffer.from(`${payload.length}:`), Buffer.from(ctx.headers.part ?? "?")]),
      headers: { streamed: "yes" },
    }));
    const consumer = await e2e.consumer(address, id);
    const reply = await consumer.request(Readable.from([big.subarray(0, 1000), big.subarray(1000)]), { timeout: 10_000, headers: { part: "two" } });
    expect(String(reply.body)).toBe(`${big.length}:two`);
    expect({ ...reply.headers }).toEqual({ streamed: "yes" });
  });

  it("oversized or malformed headers are refused with INVALID_ARGUMENT before anything is sent; the connection and other requests carry on", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    let handled = 0;
    await e2e.provider(address, id, (payload) => {
      handled++;
      return `ok ${payload}`;
    });
    const consumer = await e2e.consumer(address, id);
    const meanwhile = consumer.send("in flight", 5000);
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, "v"]));
    for (const headers of [tooMany, { big: "x".repeat(17 * 1024) }, { "bad name": "v" }]) {
      const error = await rejection(consumer.send("never", { timeout: 5000, headers }), "INVALID_ARGUMENT");
      expect(error.name).toBe("InvalidArgumentError");
    }
    expect(String(await meanwhile)).toBe("ok in flight");
    expect(String(await consumer.send("after", 5000))).toBe("ok after");
    expect(handled).toBe(2);
    expect(consumer.stats().requests).toBe(2);
  });

  it("the broker refuses a malformed header block with BAD_HEADERS on that request only; the consumer's connection and its other requests carry on", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, (payload, ctx) => `${payload} ${JSON.stringify(ctx.headers)}`);
    const raw = await RawClient.open(address);
    await raw.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)), version: V1_1 });
    const good = raw.request("first", 5000);
    const bad = newId();
    // the block says 9 bytes of entries, 5 follow
    raw.send(FrameType.START, FrameFlags.FINAL | FrameFlags.HEADERS, bad, encodeRequestHead(5000), hex("0009 01 61 0001 62"));
    const error = await raw.nextError(bad);
    expect(error).toMatchObject({ code: "BAD_HEADERS", message: expect.stringContaining("malformed header block") });
    expect(String(await raw.response(good))).toBe("first {}");
    const next = newId();
    raw.send(FrameType.START, FrameFlags.FINAL | FrameFlags.HEADERS, next, encodeRequestHead(5000), encodeHeaderBlock({ a: "b" }), Buffer.from("next"));
    expect(String(await raw.response(next))).toBe('next {"a":"b"}');
    expect(raw.isClosed).toBe(false);
  });

  it("a header block the broker passes but the provider cannot decode (a name in capitals) is answered BAD_HEADERS by the provider, which serves on", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, () => "served");
    const raw = await RawClient.open(address);
    await raw.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)), version: V1_1 });
    const bad = newId();
    raw.send(FrameType.START, FrameFlags.FINAL | FrameFlags.HEADERS, bad, encodeRequestHead(5000), hex("0004 01 41 0000"));
    expect(await raw.nextError(bad)).toMatchObject({ code: "BAD_HEADERS", message: expect.stringContaining("not a lowercase token") });
    expect(String(await raw.call("again", 5000))).toBe("served");
  });

  it("a provider's malformed response block fails that request with BAD_HEADERS at the consumer, tells the provider, and both connections carry on", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const provider = await RawClient.open(address);
    await provider.register({ role: "provider", channelId: Buffer.from(idToBytes(id)), capacity: 8, version: V1_1 });
    const consumer = await e2e.consumer(address, id);
    const answer = rejection(consumer.send("q", 5000), "BAD_HEADERS");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE, FrameFlags.HEADERS, start.requestId, RawClient.routingOf(start), hex("00ff 01 61"));
    expect((await answer).message).toContain("the provider sent a malformed header block");
    expect(await provider.nextError(start.requestId)).toMatchObject({ code: "BAD_HEADERS" });
    const second = consumer.send("q2", 5000);
    const start2 = await provider.nextOf(FrameType.START);
    provider.respond(start2, "fine");
    expect(String(await second)).toBe("fine");
  });

  it("headers to a provider that speaks 1.0 are refused with NOT_SUPPORTED naming it; that provider still gets requests without headers", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const old = await RawClient.open(address);
    await old.register({ role: "provider", channelId: Buffer.from(idToBytes(id)), capacity: 8 });
    const consumer = await e2e.consumer(address, id);
    const error = await rejection(consumer.send("with", { timeout: 5000, headers: { a: "b" } }), "NOT_SUPPORTED");
    expect(error.message).toContain("speaks protocol 1.0");
    await old.expectNothing((frame) => frame.type === FrameType.START);
    const answer = consumer.send("without", 5000);
    const start = await old.nextOf(FrameType.START);
    expect(start.flags).toBe(FrameFlags.FINAL);
    old.respond(start, "old ok");
    expect(String(await answer)).toBe("old ok");
  });

  it("a 1.0 consumer gets a 1.1 provider's answer without its header block (it cannot read one)", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, () => ({ body: "plain body", headers: { "content-type": "text/plain" } }));
    const old = await RawClient.open(address);
    await old.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)) });
    const requestId = old.request("x", 5000);
    const response = await old.nextOf(FrameType.RESPONSE, requestId);
    expect(response.flags).toBe(FrameFlags.NONE);
    expect(response.payload.toString()).toBe("plain body");
  });

  it("a 1.1 consumer gets the block as the provider sent it, untouched", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, () => ({ body: "b", headers: { k: "v" } }));
    const raw = await RawClient.open(address);
    await raw.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)), version: V1_1 });
    const requestId = raw.request("x", 5000);
    const response = await raw.nextOf(FrameType.RESPONSE, requestId);
    expect(response.flags).toBe(FrameFlags.HEADERS);
    expect(response.payload.toString("hex")).toBe(Buffer.concat([encodeHeaderBlock({ k: "v" }), Buffer.from("b")]).toString("hex"));
    expect({ ...decodeHeaderBlock(response.payload, 0).headers }).toEqual({ k: "v" });
  });

  it("headers with a 1.0 broker are refused with NOT_SUPPORTED before anything is sent; the consumer carries on without them", async () => {
    const broker = await new FakeBroker().start(0);
    const id = channel();
    const consumer = await Consumer.connect(broker.address, id);
    try {
      const error = await rejection(consumer.send("x", { timeout: 5000, headers: { a: "b" } }), "NOT_SUPPORTED");
      expect(error.message).toContain("the broker speaks protocol 1.0");
      expect(broker.frames("consumer", FrameType.START)).toHaveLength(0);
      await expect(consumer.send("y", 5000)).rejects.toMatchObject({ code: "NO_PROVIDER" }); // it reached the broker
    } finally {
      await consumer.close();
      await broker.stop();
    }
  });
});
