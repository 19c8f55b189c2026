import { setTimeout as sleep } from "node:timers/promises";
import { encodeRequestHead, type Frame, FrameType, HEADER_SIZE, newId, writeFrameHeader } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import { RawClient } from "@switchyard/testing";

/*
 * A CHUNK or RESPONSE_CHUNK that the broker reads in pieces is relayed as one frame written from
 * those pieces, without gathering them into one buffer first (FrameDecoder's keepChunkParts).
 * These tests send a frame's payload in separate writes and check what the other side receives;
 * and they cut a sender off mid-frame, which must relay nothing of that frame and leave the
 * receiving connection in step.
 */

const h = useBrokerHarness();

const BODY = 256 * 1024;
/** What is sent of the payload at first. */
const FIRST = 64 * 1024;

/** A body whose bytes depend on their position, so a misplaced byte shows. */
function patterned(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

/** The 24-byte header of a frame whose payload will follow separately. */
function header(type: FrameType, requestId: Buffer, length: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  writeFrameHeader(out, 0, type, 0, requestId, length);
  return out;
}

/** A frame's payload in `writes` separate writes, a pause between them, so the broker reads it in pieces. */
async function sendInPieces(client: RawClient, type: FrameType, requestId: Buffer, body: Buffer, writes: number): Promise<void> {
  client.sendRaw(header(type, requestId, body.length));
  const step = Math.ceil(body.length / writes);
  for (let at = 0; at < body.length; at += step) {
    client.sendRaw(body.subarray(at, at + step));
    await sleep(20);
  }
}

/** A consumer's request with START sent and the provider's view of it. */
async function streamingRequest(): Promise<{ provider: RawClient; consumer: RawClient; id: Buffer; start: Frame; server: Awaited<ReturnType<typeof h.start>> }> {
  const { server, provider, consumer } = await h.pair();
  const id = newId();
  consumer.send(FrameType.START, 0, id, encodeRequestHead(10_000));
  const start = await provider.nextOf(FrameType.START);
  return { server, provider, consumer, id, start };
}

describe("relaying CHUNK payloads read in pieces", () => {
  it("relays a CHUNK read in pieces to the provider as that one frame, byte for byte", async () => {
    const { provider, consumer, id, start } = await streamingRequest();
    const body = patterned(BODY);
    await sendInPieces(consumer, FrameType.CHUNK, id, body, 4);
    expect((await provider.nextOf(FrameType.CHUNK, start.requestId)).payload.equals(body)).toBe(true);
    consumer.send(FrameType.END, 0, id);
    expect((await provider.next((frame) => frame.requestId.equals(start.requestId))).type).toBe(FrameType.END);
    provider.respond(start, "whole");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("whole");
  });

  it("relays a RESPONSE_CHUNK read in pieces to the consumer as that one frame, byte for byte", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("a large answer, please");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE_START, 0, start.requestId, RawClient.routingOf(start));
    await consumer.nextOf(FrameType.RESPONSE_START, id);
    const body = patterned(BODY);
    await sendInPieces(provider, FrameType.RESPONSE_CHUNK, start.requestId, body, 4);
    expect((await consumer.nextOf(FrameType.RESPONSE_CHUNK, id)).payload.equals(body)).toBe(true);
    provider.send(FrameType.RESPONSE_END, 0, start.requestId);
    // the chunk went on as one frame: the next is the end
    expect((await consumer.next((frame) => frame.requestId.equals(id))).type).toBe(FrameType.RESPONSE_END);
    expect(server.stats()).toMatchObject({ inFlight: 0, completed: 1 });
  });

  it("a consumer cut off mid-CHUNK: the provider gets none of that CHUNK, then CANCEL, and its connection stays in step", async () => {
    const { server, provider, consumer, id, start } = await streamingRequest();
    consumer.sendRaw(Buffer.concat([header(FrameType.CHUNK, id, BODY), patterned(FIRST)]));
    await sleep(50);
    consumer.destroy();
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await provider.expectNothing((frame) => frame.type === FrameType.CHUNK);
    // the same provider connection goes on parsing frames where they begin
    const next = await h.consumer(server, consumer.channelId);
    const again = next.request("after the cut");
    const second = await provider.nextOf(FrameType.START);
    provider.respond(second, "in step");
    expect((await next.nextOf(FrameType.RESPONSE, again)).payload.toString()).toBe("in step");
  });

  it("a provider cut off mid-RESPONSE_CHUNK: the consumer gets none of it, then PROVIDER_GONE, and stays in step", async () => {
    const { server, provider, consumer, channelId } = await h.pair();
    const id = consumer.request("answer slowly");
    const start = await provider.nextOf(FrameType.START);
    provider.send(FrameType.RESPONSE_START, 0, start.requestId, RawClient.routingOf(start));
    await consumer.nextOf(FrameType.RESPONSE_START, id);
    provider.sendRaw(Buffer.concat([header(FrameType.RESPONSE_CHUNK, start.requestId, BODY), patterned(FIRST)]));
    await sleep(50);
    provider.destroy();
    expect((await consumer.nextError(id)).code).toBe("PROVIDER_GONE");
    expect(consumer.inbox.some((frame) => frame.type === FrameType.RESPONSE_CHUNK)).toBe(false);
    const replacement = await h.provider(server, channelId);
    const again = consumer.request("once more");
    replacement.respond(await replacement.nextOf(FrameType.START), "in step");
    expect((await consumer.nextOf(FrameType.RESPONSE, again)).payload.toString()).toBe("in step");
    expect(server.stats()).toMatchObject({ inFlight: 0 });
  });
});
