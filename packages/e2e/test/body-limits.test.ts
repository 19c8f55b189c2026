import { describe, expect, it } from "vitest";
import { MiB, patterned, patternMismatch } from "@switchyard/testing";
import { channel, useE2E } from "./fixtures/harness.js";

/** The broker's, the provider's and the consumer's default body limit: 64 MiB. */
const LIMIT = 64 * MiB;

/** Yields `body` in 4 MiB pieces with no I/O between them: an in-memory stream, read as fast as it is asked. */
async function* inMemory(body: Buffer): AsyncGenerator<Buffer> {
  yield body;
}

/** Sends 20 small requests while `big` is under way and expects each its own answer. */
async function smallOnesMeanwhile(send: (body: string) => Promise<Buffer>, big: Promise<unknown>): Promise<void> {
  big.catch(() => {}); // its outcome is checked after these
  const asked = Array.from({ length: 20 }, (_, i) => `small ${i}`);
  const answers = await Promise.all(asked.map((body) => send(body)));
  expect(answers.map(String)).toEqual(asked.map((body) => `echo: ${body}`));
}

/** A handler answering "big" with `answer` as a Buffer, "big stream" with it streamed from memory, and echoing the rest. */
function answering(answer: Buffer) {
  return (payload: Buffer) => {
    const text = String(payload);
    if (text === "big") return answer;
    if (text === "big stream") return inMemory(answer);
    return `echo: ${text}`;
  };
}

// Defect 4 of issue 10: with default options every one of these failed locally with OVERLOADED
// ("the connection's write queue is full"): the whole body was queued in one turn.
describe("bodies at the 64 MiB limit, default options everywhere", () => {
  const e2e = useE2E();

  it("a request of exactly 64 MiB (a Buffer) goes through, and requests beside it on the same connection are served", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    await e2e.provider(address, id, (payload) => (payload.length > 100 ? `${payload.length} ${patternMismatch(payload) ?? "intact"}` : `echo: ${payload}`));
    const consumer = await e2e.consumer(address, id);
    const big = consumer.send(patterned(1, LIMIT), 60_000);
    await smallOnesMeanwhile((body) => consumer.send(body, 60_000), big);
    expect(String(await big)).toBe(`${LIMIT} intact`);
  });

  it("a request of 64 MiB streamed from memory (an AsyncIterable) goes through", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    await e2e.provider(address, id, (payload) => `${payload.length} ${patternMismatch(payload) ?? "intact"}`);
    const consumer = await e2e.consumer(address, id);
    expect(String(await consumer.send(inMemory(patterned(2, LIMIT)), 60_000))).toBe(`${LIMIT} intact`);
  });

  it("a request of 64 MiB + 1 byte is refused with PAYLOAD_TOO_LARGE, and the connection keeps serving", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    await e2e.provider(address, id, (payload) => `echo: ${payload}`);
    const consumer = await e2e.consumer(address, id);
    const big = consumer.send(patterned(3, LIMIT + 1), 60_000);
    await smallOnesMeanwhile((body) => consumer.send(body, 60_000), big);
    await expect(big).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(consumer.send(inMemory(patterned(4, LIMIT + 1)), 60_000)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(String(await consumer.send("after", 60_000))).toBe("echo: after");
  });

  it("an answer of exactly 64 MiB (a Buffer, or streamed from memory) reaches the consumer, and answers beside it are delivered", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    const answer = patterned(5, LIMIT);
    await e2e.provider(address, id, answering(answer));
    const consumer = await e2e.consumer(address, id);
    const big = consumer.send("big", 60_000);
    await smallOnesMeanwhile((body) => consumer.send(body, 60_000), big);
    const received = await big;
    expect(received.length).toBe(LIMIT);
    expect(patternMismatch(received)).toBeNull();
    const streamed = await consumer.send("big stream", 60_000);
    expect(streamed.length).toBe(LIMIT);
    expect(patternMismatch(streamed)).toBeNull();
  });

  it("an answer of 64 MiB + 1 byte ends in PAYLOAD_TOO_LARGE, and the provider keeps serving", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    const answer = patterned(6, LIMIT + 1);
    await e2e.provider(address, id, answering(answer));
    const consumer = await e2e.consumer(address, id);
    const big = consumer.send("big", 60_000);
    await smallOnesMeanwhile((body) => consumer.send(body, 60_000), big);
    await expect(big).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(consumer.send("big stream", 60_000)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(String(await consumer.send("after", 60_000))).toBe("echo: after");
  });
});
