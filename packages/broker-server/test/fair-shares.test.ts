import { decodeErrorBody, encodeFrame, encodeRequestHead, FrameFlags, FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { RawClient, useBrokerProcesses } from "@switchyard/testing";
import { useBrokerHarness } from "./harness.js";

/** Bursts of thousands of frames between processes: generous on a loaded machine. */
const SLOW_TEST_MS = 120_000;

// Issue 10, design risk: the wait queue was one pool for every consumer, and one consumer parking
// 8 192 requests on one channel made 19 of 20 requests on an unrelated channel fail OVERLOADED.
// Each consumer now gets a fair share: max(queueShareFloor, limit / (n + 1)), n the consumers
// holding waiting requests, itself included.

const cli = useBrokerProcesses();
const h = useBrokerHarness();

/** Sends `count` START|FINAL requests in one write; returns their ids. */
function pipeline(consumer: RawClient, count: number, body: Buffer = Buffer.from("x"), timeoutMs = 30_000): Buffer[] {
  const ids = Array.from({ length: count }, () => newId());
  consumer.sendRaw(Buffer.concat(ids.flatMap((id) => encodeFrame(FrameType.START, FrameFlags.FINAL, id, encodeRequestHead(timeoutMs), body))));
  return ids;
}

/** Waits for `count` ERRORs and returns their messages (the frames are taken from the inbox). */
async function refusals(consumer: RawClient, count: number): Promise<string[]> {
  await expect.poll(() => consumer.inbox.length, { timeout: 30_000, interval: 50 }).toBe(count);
  return consumer.takeAll().map((frame) => {
    expect(frame.type).toBe(FrameType.ERROR);
    const error = decodeErrorBody(frame.payload);
    expect(error.code).toBe("OVERLOADED");
    return error.message;
  });
}

describe("fair shares of the wait queue", () => {
  it("one consumer parking 8 192 requests on a channel leaves an unrelated channel served (regression: 19 of 20 refused OVERLOADED)", async () => {
    const broker = cli.run(["--port", "0", "--log-level", "warn"]);
    const { port } = await broker.listening();
    const parked = newId();
    const busy = await (await RawClient.open(port)).register({ role: "provider", channelId: parked, capacity: 1 });
    const hog = await (await RawClient.open(port)).register({ role: "consumer", channelId: parked });
    pipeline(hog, 8193); // 1 to the provider, which never answers; the rest would all wait
    const ping = newId();
    hog.send(FrameType.PING, 0, ping); // answered in order: once it is, every START has been handled
    await hog.nextOf(FrameType.PONG, ping, 10_000);
    await busy.nextOf(FrameType.START);

    const other = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId: other, capacity: 1 });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId: other });
    const ids = pipeline(consumer, 20); // 1 at the provider at a time: 19 wait for it
    for (let i = 0; i < 20; i++) {
      const start = await provider.nextOf(FrameType.START, undefined, 10_000);
      provider.respond(start, `answer ${i}`);
    }
    for (const id of ids) expect((await consumer.nextOf(FrameType.RESPONSE, id, 10_000)).payload.toString()).toMatch(/^answer \d+$/);
    expect(consumer.inbox).toEqual([]);
    // alone, the hog could hold half the queue: 4 096 waited, 4 096 were refused naming its share
    const messages = await refusals(hog, 4096);
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toMatch(/this consumer holds its fair share of the broker's wait queue/);
  }, SLOW_TEST_MS);

  it("shares the queue among the consumers holding waiting requests: each may hold limit / (n + 1), with room left for one more", async () => {
    const server = await h.start({ maxQueuedRequests: 30, queueShareFloor: 0 });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 1 });
    const first = await h.consumer(server, channelId);
    const second = await h.consumer(server, channelId);
    pipeline(first, 31); // 1 in flight; alone it may hold 30 / 2 = 15
    await refusals(first, 15);
    await provider.nextOf(FrameType.START);
    expect(server.stats().queued).toBe(15);
    pipeline(second, 20); // two holders now: 30 / 3 = 10 each
    await refusals(second, 10);
    expect(server.stats().queued).toBe(25);
    pipeline(first, 1); // over its new share of 10: keeps its 15, gets no more
    await refusals(first, 1);
    // a third consumer still finds room: 30 / 4 = 7, and 5 are free
    const third = await h.consumer(server, channelId);
    pipeline(third, 6);
    await refusals(third, 1);
    expect(server.stats()).toMatchObject({ queued: 30, inFlight: 1 });
  }, SLOW_TEST_MS);

  it("shares the bytes held for waiting requests the same way, naming the bytes share when it refuses", async () => {
    const server = await h.start({ maxQueuedRequestBytes: 10_000, queueShareFloorBytes: 0 });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 1 });
    const consumer = await h.consumer(server, channelId);
    pipeline(consumer, 1);
    await provider.nextOf(FrameType.START);
    pipeline(consumer, 2, Buffer.alloc(2000)); // alone: 10 000 / 2 = 5 000 bytes, heads included
    const [refused] = pipeline(consumer, 1, Buffer.alloc(2000));
    const error = await consumer.nextError(refused);
    expect(error.code).toBe("OVERLOADED");
    expect(error.message).toMatch(/fair share of the body bytes/);
    expect(consumer.inbox).toEqual([]); // the two before it wait, unrefused
    expect(server.stats().queuedRequestBytes).toBe(2 * 2004);
  }, SLOW_TEST_MS);

  it("lets a consumer hold queueShareFloor requests whatever its share; a floor of maxQueuedRequests turns shares off", async () => {
    const server = await h.start({ maxQueuedRequests: 10, queueShareFloor: 10 });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 1 });
    const consumer = await h.consumer(server, channelId);
    pipeline(consumer, 12);
    const [message] = await refusals(consumer, 1);
    expect(message).toMatch(/wait queue is full \(maxQueuedRequests\)/);
    await provider.nextOf(FrameType.START);
    expect(server.stats().queued).toBe(10);
  }, SLOW_TEST_MS);
});
