import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

const CONCURRENCY = 4;

// Issue 10, defect 7: the broker frees a slot when it sends CANCEL and the provider dropped the
// request at once, so a handler ignoring ctx.signal kept running beside the new requests routed
// into its slot: a provider of concurrency 4 ran far more than 4 handlers.
describe("a provider's declared concurrency bounds its running handlers", () => {
  const e2e = useE2E();

  it("handlers that ignore their signal, under many timeouts and cancels, never run more than `concurrency` at once, and every request gets one outcome", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    let running = 0;
    let most = 0;
    let handled = 0;
    const provider = await e2e.provider(
      address,
      id,
      async (payload) => {
        running++;
        handled++;
        most = Math.max(most, running);
        await sleep(String(payload) === "quick" ? 0 : 150); // deaf to ctx.signal
        running--;
        return `done ${payload}`;
      },
      { concurrency: CONCURRENCY },
    );
    const consumer = await e2e.consumer(address, id);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => {
        if (i % 3 === 0) return consumer.send(`abort ${i}`, { timeout: 30_000, signal: AbortSignal.timeout(20 + (i % 7) * 10) });
        return consumer.send(`timeout ${i}`, 20 + (i % 5) * 15);
      }),
    );
    // Each of the 60 sends settled once, and each failure is the one its caller asked for.
    expect(outcomes).toHaveLength(60);
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") expect(["TIMEOUT", "ABORTED"]).toContain((outcome.reason as { code?: string }).code);
    }
    // No slot is lost: once the deaf handlers are done, the provider serves at full width again.
    const after = await Promise.all(Array.from({ length: CONCURRENCY * 2 }, () => consumer.send("quick", 30_000)));
    expect(after.map(String)).toEqual(Array(CONCURRENCY * 2).fill("done quick"));
    expect(handled).toBeGreaterThan(CONCURRENCY);
    expect(most).toBeLessThanOrEqual(CONCURRENCY);
    await sleep(200);
    expect(running).toBe(0);
    expect(provider.inflight).toBe(0);
  });

  it("a request that waits for a slot held by a deaf handler and is cancelled meanwhile never reaches the handler", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    const seen: string[] = [];
    await e2e.provider(
      address,
      id,
      async (payload) => {
        seen.push(String(payload));
        if (String(payload) === "deaf") await sleep(600);
        return `done ${payload}`;
      },
      { concurrency: 1 },
    );
    const consumer = await e2e.consumer(address, id);
    await expect(consumer.send("deaf", 50)).rejects.toMatchObject({ code: "TIMEOUT" });
    // The broker freed the slot with its CANCEL and routes this one, which waits and times out too.
    await expect(consumer.send("waits", 100)).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(String(await consumer.send("later", 30_000))).toBe("done later");
    expect(seen).toEqual(["deaf", "later"]);
  });
});
