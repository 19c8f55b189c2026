import { Readable } from "node:stream";
import { FrameType, MAX_PAYLOAD, REQUEST_HEAD_SIZE, ROUTING_HEADER_SIZE, Role, idToString } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inPieces, randomBody, sha256 } from "@switchyard/testing";
import { Rig } from "./fixtures/clients.js";

const MiB = 1024 * 1024;

describe("consumer ↔ broker ↔ provider round trip", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a request reaches the provider's handler and its answer comes back", async () => {
    await rig.provider(async (payload) => `processed: ${payload}`);
    const consumer = await rig.consumer();
    const response = await consumer.send("hello", 5000);
    expect(response.toString()).toBe("processed: hello");
    expect(consumer.inFlight).toBe(0);
  });

  it("both clients register with their role, ids, default timeout and the provider's capacity", async () => {
    const provider = await rig.provider(() => "", { concurrency: 7, clientName: "worker-1", authToken: "t0k" });
    const consumer = await rig.consumer({ timeout: 1234 });
    const [p, c] = rig.broker.registrations;
    expect(p).toMatchObject({ role: Role.PROVIDER, capacity: 7, clientName: "worker-1", authToken: "t0k", timeoutMs: 5000 });
    expect(idToString(p!.clientId)).toBe(provider.clientId);
    expect(idToString(p!.channelId)).toBe(rig.channelId);
    expect(c).toMatchObject({ role: Role.CONSUMER, timeoutMs: 1234 });
    expect(c!.capacity).toBeUndefined();
    expect(idToString(c!.clientId)).toBe(consumer.clientId);
  });

  it("1 000 concurrent sends on one connection each get their own answer", async () => {
    await rig.provider(async (payload) => `re:${payload}`, { concurrency: 1000 });
    const consumer = await rig.consumer();
    const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => consumer.send(`n${i}`, 20_000)));
    expect(responses.map(String)).toEqual(Array.from({ length: 1000 }, (_, i) => `re:n${i}`));
  });

  it.each([5 * MiB, 20 * MiB])("a %d-byte body travels both ways byte-exact", async (size) => {
    const request = randomBody(size);
    let seen = "";
    await rig.provider(async (payload) => {
      seen = sha256(payload);
      // Answer with the bytes reversed, streamed in odd-sized pieces.
      return inPieces(Buffer.from(payload).reverse(), 300_001);
    });
    const consumer = await rig.consumer({ timeout: 30_000 });
    const response = await consumer.send(request);
    expect(seen).toBe(sha256(request));
    expect(response.length).toBe(size);
    expect(sha256(response)).toBe(sha256(Buffer.from(request).reverse()));
  });

  it("a Readable request body streams without being read whole first, and arrives byte-exact", async () => {
    const request = randomBody(3 * MiB + 17);
    await rig.provider(async (payload) => sha256(payload));
    const consumer = await rig.consumer();
    const response = await consumer.send(Readable.from(inPieces(request, 64 * 1024)));
    expect(response.toString()).toBe(sha256(request));
    const chunks = rig.broker.frames("consumer", FrameType.CHUNK).length;
    expect(chunks).toBeGreaterThanOrEqual(48); // one CHUNK per 64 KiB piece, none merged
    expect(rig.broker.frames("consumer", FrameType.END)).toHaveLength(1);
  });

  it("a body that fits one forwardable frame goes as a single START|FINAL; one byte more streams", async () => {
    await rig.provider(async (payload) => String(payload.length));
    const consumer = await rig.consumer();
    const largestSingle = MAX_PAYLOAD - REQUEST_HEAD_SIZE - ROUTING_HEADER_SIZE;
    expect(String(await consumer.send(randomBody(largestSingle)))).toBe(String(largestSingle));
    expect(rig.broker.frames("consumer", FrameType.START)).toHaveLength(1);
    expect(rig.broker.frames("consumer", FrameType.CHUNK)).toHaveLength(0);
    expect(String(await consumer.send(randomBody(largestSingle + 1)))).toBe(String(largestSingle + 1));
    expect(rig.broker.frames("consumer", FrameType.START)).toHaveLength(2);
    expect(rig.broker.frames("consumer", FrameType.CHUNK)).toHaveLength(1);
    expect(rig.broker.frames("consumer", FrameType.END)).toHaveLength(1);
  });

  it("a small answer goes back as one RESPONSE, a large one as RESPONSE_START, chunks and RESPONSE_END", async () => {
    await rig.provider(async (payload) => randomBody(Number(payload.toString())));
    const consumer = await rig.consumer();
    const small = MAX_PAYLOAD - ROUTING_HEADER_SIZE;
    expect((await consumer.send(String(small))).length).toBe(small);
    expect(rig.broker.frames("provider", FrameType.RESPONSE)).toHaveLength(1);
    expect((await consumer.send(String(small + 1))).length).toBe(small + 1);
    expect(rig.broker.frames("provider", FrameType.RESPONSE_START)).toHaveLength(1);
    expect(rig.broker.frames("provider", FrameType.RESPONSE_CHUNK)).toHaveLength(1);
    expect(rig.broker.frames("provider", FrameType.RESPONSE_END)).toHaveLength(1);
  });

  it("stream() yields a large answer chunk by chunk, and the chunks add up to it", async () => {
    const answer = randomBody(4 * MiB + 5);
    await rig.provider(async () => answer);
    const consumer = await rig.consumer();
    const chunks: Buffer[] = [];
    for await (const chunk of consumer.stream("give")) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(answer));
  });

  it("an empty body and an empty answer are carried as such", async () => {
    await rig.provider(async (payload) => (payload.length === 0 ? new Uint8Array(0) : "non-empty"));
    const consumer = await rig.consumer();
    expect((await consumer.send("")).length).toBe(0);
  });
});
