import { describe, expect, it } from "vitest";
import { inPieces, MiB, patterned, patternMismatch, sha256 } from "@switchyard/testing";
import { channel, useE2E } from "./fixtures/harness.js";

/** The seed of the answer to a request with seed `seed`: unrelated bytes, but predictable. */
const answerSeed = (seed: number): number => (seed ^ 0xa5a5a5a5) >>> 0;

/**
 * A handler that checks its request against the pattern it announces, and answers a patterned body
 * of its own of `answerSize(request)` bytes: a request that arrived damaged fails with
 * HANDLER_ERROR saying where.
 */
function patternHandler(answerSize: (request: Buffer) => number, stream: boolean) {
  return (payload: Buffer) => {
    const mismatch = patternMismatch(payload);
    if (mismatch !== null) throw new Error(`request damaged: ${mismatch}`);
    const answer = patterned(answerSeed(payload.readUInt32LE(0)), answerSize(payload));
    return stream ? inPieces(answer, 300_000) : answer;
  };
}

describe("large bodies through the real broker", () => {
  const e2e = useE2E();

  it.each([5 * MiB, 20 * MiB])("a %d-byte request and an unrelated answer of the same size arrive byte-exact", async (size) => {
    const { address } = await e2e.broker();
    const id = channel();
    await e2e.provider(address, id, patternHandler((request) => request.length, false));
    const consumer = await e2e.consumer(address, id);
    const request = patterned(0x1234 + size, size);
    const answer = await consumer.send(request, 60_000);
    expect(answer.length).toBe(size);
    expect(sha256(answer)).toBe(sha256(patterned(answerSeed(0x1234 + size), size)));
  });

  it("8 concurrent 3 MiB requests through one consumer keep every chunk in its own body and in order, both ways", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    // One provider holding all 8 at once: their frames share both of its connections' directions.
    await e2e.provider(address, id, patternHandler((request) => request.length + 4099, true), { concurrency: 8 });
    const consumer = await e2e.consumer(address, id);
    const size = 3 * MiB + 12_345; // not a multiple of the chunk size: the last chunk is short
    const seeds = Array.from({ length: 8 }, (_, i) => 1000 + i);
    // Half the bodies stream in odd pieces that yield to I/O, so the 8 requests interleave.
    const answers = await Promise.all(
      seeds.map((seed, i) => {
        const body = patterned(seed, size);
        return consumer.send(i % 2 === 0 ? inPieces(body, 200_003) : body, 60_000);
      }),
    );
    for (const [i, answer] of answers.entries()) {
      expect(patternMismatch(answer), `answer to request ${i}`).toBeNull();
      expect(answer.readUInt32LE(0), `answer to request ${i} is for that request`).toBe(answerSeed(seeds[i]!));
      expect(answer.length).toBe(size + 4099);
    }
  });
});
