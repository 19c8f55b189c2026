import { decodeErrorBody, encodeFrame, encodeRequestHead, FrameFlags, FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { RawClient, useBrokerProcesses } from "@switchyard/testing";

/** Bursts of thousands of frames between processes: generous on a loaded machine. */
const SLOW_TEST_MS = 120_000;

// Issue 10, defect 1: more than 2 048 errors for one connection made in one event-loop turn
// overflowed its error queue before it was ever flushed, and the broker reset a consumer that was
// reading promptly as a slow peer, losing every outcome. These run the broker through its CLI, as
// the scenarios did.

const { run } = useBrokerProcesses();

/** `count` START|FINAL frames in one buffer, so the broker reads them in as few reads as it can. */
function pipelined(count: number, timeoutMs: number): { ids: Buffer[]; bytes: Buffer } {
  const ids = Array.from({ length: count }, () => newId());
  const bytes = Buffer.concat(ids.flatMap((id) => encodeFrame(FrameType.START, FrameFlags.FINAL, id, encodeRequestHead(timeoutMs), Buffer.from("x"))));
  return { ids, bytes };
}

/** Waits until `consumer` holds `count` frames, then returns each ERROR's code by requestId (hex), failing on a second outcome for an id. */
async function outcomes(consumer: RawClient, count: number, timeout: number): Promise<Map<string, string>> {
  await expect.poll(() => consumer.inbox.length, { timeout, interval: 50 }).toBeGreaterThanOrEqual(count);
  const codes = new Map<string, string>();
  for (const frame of consumer.takeAll()) {
    expect(frame.type).toBe(FrameType.ERROR);
    const key = frame.requestId.toString("hex");
    expect(codes.has(key), `a second outcome for request ${key}`).toBe(false);
    codes.set(key, decodeErrorBody(frame.payload).code);
  }
  return codes;
}

function tally(codes: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes.values()) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe("bursts of outcomes in one turn (regression: a prompt reader reset as SLOW_PEER)", () => {
  it("3 000 NO_PROVIDER refusals read in one go all reach a consumer that reads promptly, which stays connected", async () => {
    const broker = run(["--port", "0", "--log-level", "warn"]);
    const { port } = await broker.listening();
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId: newId() });
    const { ids, bytes } = pipelined(3000, 5000);
    consumer.sendRaw(bytes);
    const codes = await outcomes(consumer, ids.length, 30_000);
    expect(codes.size).toBe(3000);
    for (const id of ids) expect(codes.get(id.toString("hex"))).toBe("NO_PROVIDER");
    await consumer.expectNothing(undefined, 200);
    expect(consumer.isClosed).toBe(false);
    // still served: one more request gets its answer on the same connection
    const again = consumer.request("still here?");
    expect((await consumer.nextError(again)).code).toBe("NO_PROVIDER");
    expect(broker.stderr()).not.toMatch(/SLOW_PEER/);
  }, SLOW_TEST_MS);

  it("a provider that dies holding 3 000 requests of one consumer: each gets PROVIDER_GONE in the same turn, the consumer stays connected", async () => {
    const broker = run(["--port", "0", "--log-level", "warn"]);
    const { port } = await broker.listening();
    const channelId = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId, capacity: 3000 });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId });
    const { ids, bytes } = pipelined(3000, 30_000);
    consumer.sendRaw(bytes);
    await expect.poll(() => provider.inbox.length, { timeout: 30_000, interval: 50 }).toBe(3000);
    provider.destroy(); // the broker fails all 3 000 in the one call that handles the close
    const codes = await outcomes(consumer, ids.length, 30_000);
    expect(tally(codes)).toEqual({ PROVIDER_GONE: 3000 });
    for (const id of ids) expect(codes.has(id.toString("hex"))).toBe(true);
    await consumer.expectNothing(undefined, 200);
    expect(consumer.isClosed).toBe(false);
    expect(broker.stderr()).not.toMatch(/SLOW_PEER/);
  }, SLOW_TEST_MS);

  it("a raw consumer pipelining 10 304 requests gets exactly one outcome for each", async () => {
    // 64 in flight at the provider (the default capacity), some waiting, the rest OVERLOADED: more
    // errors at once than the error queue's 2 048, which used to cost every outcome.
    const broker = run(["--port", "0", "--log-level", "warn"]);
    const { port } = await broker.listening();
    const channelId = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId });
    const { ids, bytes } = pipelined(10_304, 1500);
    consumer.sendRaw(bytes);
    // refused at once or timed out at their deadline (the provider holds its 64 and answers nothing)
    const codes = await outcomes(consumer, ids.length, 60_000);
    expect(codes.size).toBe(10_304);
    for (const id of ids) expect(codes.has(id.toString("hex"))).toBe(true);
    const counts = tally(codes);
    expect(Object.keys(counts).sort()).toEqual(["OVERLOADED", "TIMEOUT"]);
    expect(counts.TIMEOUT).toBeGreaterThanOrEqual(64);
    // every request the provider was given was cancelled at its deadline (a waiting request whose
    // deadline passed is not forwarded when capacity frees: thousands of START + CANCEL in one turn
    // once overflowed the provider's write queue, and CANCELs were dropped)
    const countOf = (type: FrameType) => provider.inbox.filter((frame) => frame.type === type).length;
    const unanswered = () => countOf(FrameType.START) - countOf(FrameType.CANCEL);
    await expect.poll(unanswered, { timeout: 5000 }).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
    expect(unanswered()).toBe(0);
    expect(countOf(FrameType.START)).toBeGreaterThanOrEqual(64);
    await consumer.expectNothing(undefined, 200);
    expect(consumer.isClosed).toBe(false);
    expect(broker.stderr()).not.toMatch(/SLOW_PEER/);
  }, SLOW_TEST_MS);
});
