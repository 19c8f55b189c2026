import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { Consumer } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { encodeRequestHead, type Frame, FrameType, idToBytes, newId, ROUTING_HEADER_SIZE } from "@switchyard/protocol";
import { digestOf, digestOfBytes as digest, FakeBroker, inPieces, MiB, patterned, RawClient } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

/*
 * Flow control (protocol 1.1, docs/protocol.md §1.20) through real sockets: streams of any size
 * between 1.1 peers, every pairing with a 1.0 peer (played by RawClient, or FakeBroker for a 1.0
 * broker), the typed error for a peer that overruns its credit, a sender held to its credit, a
 * stopped reader that stops its stream and nothing else, and a broker process whose memory stays
 * bounded under a 1 GiB download read slowly.
 */

const V1_1 = { major: 1, minor: 1 };

/** A stream of `total` bytes in pieces of `piece` (one reused buffer), counting what was pulled from it. */
function counted(total: number, piece = 64 * 1024): { source: AsyncGenerator<Buffer>; pulled: () => number } {
  let pulled = 0;
  const bytes = Buffer.alloc(piece, 7);
  async function* source() {
    while (pulled < total) {
      const size = Math.min(piece, total - pulled);
      pulled += size;
      yield size === piece ? bytes : bytes.subarray(0, size);
    }
  }
  return { source: source(), pulled: () => pulled };
}

/** Body bytes a raw provider got for one request: a START's after its routing header and head, and every CHUNK's. */
function requestBodyBytes(frame: Frame): number {
  return frame.type === FrameType.START ? frame.payload.length - ROUTING_HEADER_SIZE - 4 : frame.payload.length;
}

/** The VmHWM (peak resident set) of process `pid`, bytes. */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /VmHWM:\s+(\d+) kB/.exec(status);
  if (kib === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kib[1]) * 1024;
}

describe("flow control (1.1) through real sockets", () => {
  const e2e = useE2E();

  it("a stream flow-controlled on both hops may be larger than the broker's maxRequestBytes and maxResponseBytes: 24 MiB up and back, byte-exact", async () => {
    const { address } = await e2e.cliBroker(["--max-request-bytes", String(MiB), "--max-response-bytes", String(MiB)]);
    const id = channel();
    await e2e.provider(address, id, (_payload, ctx) => ctx.body, { requestBody: "stream" }); // an echo
    const consumer = await e2e.consumer(address, id);
    expect(consumer.protocolVersion).toEqual(V1_1);
    const body = patterned(7, 24 * MiB + 3);
    expect(await digestOf(consumer.stream(Readable.from(inPieces(body, 500_000)), 60_000))).toBe(digest(body));
  });

  it("header blocks on a streamed request and its streamed answer do not disturb the credit: 24 MiB each way with headers both ways, byte-exact", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const headers = { "content-type": "application/octet-stream", "x-pad": "p".repeat(4000) };
    await e2e.provider(address, id, (_payload, ctx) => ({ body: ctx.body, headers }), { requestBody: "stream" });
    const consumer = await e2e.consumer(address, id);
    const body = patterned(12, 24 * MiB + 5);
    expect(await digestOf(consumer.stream(Readable.from(inPieces(body, 300_000)), { timeout: 60_000, headers }))).toBe(digest(body));
  });

  it("a 1.0 consumer streams 20 MiB through a 1.1 broker to a 1.1 provider and gets 20 MiB back, without CREDIT", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, (_payload, ctx) => ctx.body, { requestBody: "stream" });
    const old = await RawClient.open(address);
    await old.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)) });
    const body = patterned(8, 20 * MiB);
    const answer = await old.response(old.requestStreamed(body, 60_000), 20_000);
    expect(digest(answer)).toBe(digest(body));
    expect(old.inbox.filter((frame) => frame.type === FrameType.CREDIT)).toEqual([]);
  });

  it("a 1.1 consumer streams 20 MiB through a 1.1 broker to a 1.0 provider, which answers 20 MiB streamed, without CREDIT", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const old = await RawClient.open(address);
    await old.register({ role: "provider", channelId: Buffer.from(idToBytes(id)), capacity: 4 });
    const consumer = await e2e.consumer(address, id);
    const body = patterned(9, 20 * MiB);
    const answer = consumer.send(Readable.from(inPieces(body, 300_000)), 60_000);
    const start = await old.nextOf(FrameType.START);
    const parts = [start.payload.subarray(ROUTING_HEADER_SIZE + 4)];
    for (let frame = await old.next((f) => f.requestId.equals(start.requestId)); frame.type !== FrameType.END; frame = await old.next((f) => f.requestId.equals(start.requestId))) {
      expect(frame.type).toBe(FrameType.CHUNK);
      parts.push(frame.payload);
    }
    expect(digest(Buffer.concat(parts))).toBe(digest(body));
    const reply = patterned(10, 20 * MiB);
    old.send(FrameType.RESPONSE_START, 0, start.requestId, RawClient.routingOf(start));
    for (let at = 0; at < reply.length; at += MiB) old.send(FrameType.RESPONSE_CHUNK, 0, start.requestId, reply.subarray(at, at + MiB));
    old.send(FrameType.RESPONSE_END, 0, start.requestId);
    expect(digest(await answer)).toBe(digest(reply));
  });

  it("1.1 clients through a 1.0 broker stream 8 MiB both ways, unpaced by credit (none is sent on 1.0)", async () => {
    const broker = await new FakeBroker().start(0);
    const id = channel();
    const provider = await Provider.connect(broker.address, id, (_payload, ctx) => ctx.body, { requestBody: "stream" });
    const consumer = await Consumer.connect(broker.address, id);
    try {
      expect(consumer.protocolVersion).toEqual({ major: 1, minor: 0 });
      const body = patterned(11, 8 * MiB);
      expect(await digestOf(consumer.stream(Readable.from(inPieces(body, 256 * 1024)), 30_000))).toBe(digest(body));
    } finally {
      await consumer.close();
      await provider.close();
      await broker.stop();
    }
  });

  it("a raw 1.1 consumer that sends past its credit gets FLOW_CONTROL_ERROR on that request only; its other request is answered, its connection stays", async () => {
    const { address } = await e2e.cliBroker(["--stream-window-bytes", String(MiB)]);
    const id = channel();
    const provider = await RawClient.open(address);
    await provider.register({ role: "provider", channelId: Buffer.from(idToBytes(id)), capacity: 4, version: V1_1, streamWindow: MiB });
    const consumer = await RawClient.open(address);
    await consumer.register({ role: "consumer", channelId: Buffer.from(idToBytes(id)), version: V1_1 });
    const greedy = newId();
    consumer.send(FrameType.START, 0, greedy, encodeRequestHead(10_000));
    // The provider grants nothing: the broker forwards its 1 MiB window, gives the consumer that
    // much back, and holds 1 MiB more. Credit given in all: 2 MiB; this sends one byte more.
    for (let i = 0; i < 8; i++) consumer.send(FrameType.CHUNK, 0, greedy, Buffer.alloc(MiB / 4));
    consumer.send(FrameType.CHUNK, 0, greedy, Buffer.alloc(1));
    expect((await consumer.nextError(greedy)).code).toBe("FLOW_CONTROL_ERROR");
    const start = await provider.nextOf(FrameType.START);
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    const polite = consumer.request("hi", 10_000);
    const second = await provider.nextOf(FrameType.START);
    provider.respond(second, "still here");
    expect(String(await consumer.response(polite))).toBe("still here");
    expect(consumer.isClosed).toBe(false);
  });

  it("consumer.send(readable) reads its source only as the credit allows: a raw provider granting slowly holds it back", async () => {
    const { address } = await e2e.cliBroker(["--stream-window-bytes", String(MiB)]);
    const id = channel();
    const provider = await RawClient.open(address);
    await provider.register({ role: "provider", channelId: Buffer.from(idToBytes(id)), capacity: 4, version: V1_1, streamWindow: MiB });
    const consumer = await e2e.consumer(address, id);
    const { source, pulled } = counted(6 * MiB);
    const answer = consumer.send(source, 60_000);
    const start = await provider.nextOf(FrameType.START);
    let received = requestBodyBytes(start);
    const ofRequest = (frame: Frame) => frame.requestId.equals(start.requestId);
    const receiveUpTo = async (bytes: number) => {
      while (received < bytes) received += requestBodyBytes(await provider.next(ofRequest));
      await provider.expectNothing(ofRequest, 200); // and no byte past the credit
    };
    let granted = MiB;
    for (const grant of [0, MiB, 2 * MiB]) {
      if (grant > 0) provider.credit(start.requestId, grant);
      granted += grant;
      await receiveUpTo(granted);
      expect(received).toBe(granted);
      // sent at most: the provider's credit + the broker's 1 MiB window; read ahead of that at most one piece
      expect(pulled()).toBeLessThanOrEqual(granted + MiB + 64 * 1024);
    }
    provider.credit(start.requestId, 4 * MiB);
    for (let frame = await provider.next(ofRequest); frame.type !== FrameType.END; frame = await provider.next(ofRequest)) received += requestBodyBytes(frame);
    expect(received).toBe(6 * MiB);
    provider.respond(start, "got it");
    expect(String(await answer)).toBe("got it");
  });

  it("a consumer.stream() whose reader stops stops its provider's stream and nothing else: 200 small requests on the same connections complete, the broker holds at most one window", async () => {
    const { address, server } = await e2e.broker();
    const id = channel();
    const big = counted(256 * MiB);
    await e2e.provider(address, id, (payload) => (payload.toString() === "big" ? big.source : `small ${payload}`), { concurrency: 256 });
    const consumer = await e2e.consumer(address, id);
    const reader = consumer.stream("big", 60_000);
    expect((await reader.next()).done).toBe(false); // the stream began; the reader now stops
    await delay(300);
    const smalls = await Promise.all(Array.from({ length: 200 }, (_, i) => consumer.send(String(i), 10_000)));
    expect(smalls.map(String)).toEqual(Array.from({ length: 200 }, (_, i) => `small ${i}`));
    // bounded by credit: the consumer's window, the broker's, and what waits in the sockets between
    const window = 4 * MiB;
    expect(server.stats().streamHeldBytes).toBeLessThanOrEqual(window);
    expect(big.pulled()).toBeLessThan(3 * window + 8 * MiB);
    const pulledThen = big.pulled();
    await delay(300);
    expect(big.pulled()).toBe(pulledThen); // stopped, not slowed
    await reader.return?.();
  });

  it("a 1 GiB download through a broker process, read slowly, keeps the broker's peak RSS under 200 MB", { timeout: 180_000 }, async () => {
    const broker = await e2e.cliBroker();
    const id = channel();
    const size = 1024 * MiB;
    const piece = Buffer.alloc(MiB, 3);
    await e2e.provider(broker.address, id, async function* () {
      for (let sent = 0; sent < size; sent += MiB) yield piece;
    });
    const consumer = await e2e.consumer(broker.address, id);
    let received = 0;
    let sincePause = 0;
    for await (const chunk of consumer.stream("download", 170_000)) {
      received += chunk.length;
      sincePause += chunk.length;
      if (sincePause >= 64 * MiB) {
        sincePause = 0;
        await delay(100); // a slow reader: the broker must hold its bytes back, not buffer them
      }
    }
    expect(received).toBe(size);
    const peak = peakRss(broker.pid);
    expect(peak, `broker peak RSS ${Math.round(peak / MiB)} MiB`).toBeLessThan(200 * 1000 * 1000);
  });
});
