import { CancelledError } from "@switchyard/client-provider";
import { MiB } from "@switchyard/testing";
import { describe, expect, it, vi } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

/** Most bytes an upload may get ahead of a reader that stopped: the windows of every hop each way and the sockets' buffers between, far below the 64 MiB a body was bounded by before flow control. */
const MAX_AHEAD_BYTES = 48 * MiB;

describe("flow control: a stream whose reader stops holds back only itself", () => {
  const e2e = useE2E();

  it("small requests on the same consumer and provider connections all complete while a stream's reader has stopped; the stream's upload stops too", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const bodyErrors: unknown[] = [];
    const provider = await e2e.provider(
      address,
      id,
      (payload, ctx) => {
        if (ctx.headers["x-echo"] !== "stream") return payload;
        ctx.body.on("error", (error) => bodyErrors.push(error));
        return ctx.body; // an echo: its answer goes as fast as the consumer reads it, and no faster
      },
      { requestBody: (ctx) => (ctx.headers["x-echo"] === "stream" ? "stream" : "buffer"), concurrency: 256 },
    );
    const consumer = await e2e.consumer(address, id);

    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        pulled += 256 * 1024;
        yield Buffer.alloc(256 * 1024, 0x5a);
      }
    }
    const stream = consumer.stream(endless(), { timeout: 120_000, headers: { "x-echo": "stream" } });
    const first = await stream.next(); // the echo flows…
    expect(first.done).toBe(false);
    // …and now nobody reads it. Wait until the upload has stopped growing: every window is full.
    let before = -1;
    await vi.waitFor(
      async () => {
        const now = pulled;
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(pulled).toBe(now);
        before = now;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(MAX_AHEAD_BYTES);

    // 300 small requests, 30 at a time, on the same two connections
    const answers: string[] = [];
    for (let round = 0; round < 300 / 30; round++) {
      const batch = Array.from({ length: 30 }, (_, i) => `small ${round * 30 + i}`);
      answers.push(...(await Promise.all(batch.map((body) => consumer.send(body, 10_000)))).map(String));
    }
    expect(answers).toEqual(Array.from({ length: 300 }, (_, i) => `small ${i}`));
    expect(pulled).toBe(before); // the stalled stream took nothing more meanwhile
    expect(provider.inFlight).toBe(1); // …and is still there, stalled, not failed
    expect(bodyErrors).toEqual([]);

    await stream.return?.(undefined); // the reader leaves: the request is cancelled end to end
    await vi.waitFor(() => expect(provider.inFlight).toBe(0));
    await vi.waitFor(() => expect(bodyErrors).toHaveLength(1));
    expect(bodyErrors[0]).toBeInstanceOf(CancelledError);
  });
});
