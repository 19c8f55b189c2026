import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { MiB } from "@switchyard/testing";
import { channel, useE2E } from "./fixtures/harness.js";

/** What one provider saw: how many requests, and the most it was handling at once. */
interface Tally {
  served: number;
  active: number;
  maxActive: number;
}

describe("routing through the real broker", () => {
  const e2e = useE2E();

  it("shares 3 000 requests fairly among 3 providers and never gives one more at once than its declared concurrency", async () => {
    const { address } = await e2e.broker();
    const id = channel();
    const concurrency = 4;
    const tallies: Tally[] = [];
    for (let p = 0; p < 3; p++) {
      const tally: Tally = { served: 0, active: 0, maxActive: 0 };
      tallies.push(tally);
      await e2e.provider(
        address,
        id,
        async (payload) => {
          tally.served++;
          tally.maxActive = Math.max(tally.maxActive, ++tally.active);
          try {
            await delay(1 + (tally.served % 3));
            return `provider ${p}: ${payload}`;
          } finally {
            tally.active--;
          }
        },
        { concurrency },
      );
    }
    const consumers = await Promise.all([0, 1, 2].map(() => e2e.consumer(address, id)));
    const perConsumer = 1000;
    const answers = await Promise.all(
      consumers.flatMap((consumer, c) => Array.from({ length: perConsumer }, (_, i) => consumer.send(`c${c} #${i}`, 60_000))),
    );
    const byProvider = [0, 0, 0];
    for (const [n, answer] of answers.entries()) {
      const match = /^provider (\d): (.*)$/.exec(String(answer));
      expect(match?.[2], `answer ${n}`).toBe(`c${Math.floor(n / perConsumer)} #${n % perConsumer}`);
      byProvider[Number(match![1])]!++;
    }
    expect(byProvider).toEqual(tallies.map((tally) => tally.served));
    for (const [p, tally] of tallies.entries()) {
      expect(tally.served, `provider ${p}'s share of 3 000`).toBeGreaterThanOrEqual(600);
      // With 3 000 requests waiting, each provider is kept full: at its capacity, never above it.
      expect(tally.maxActive, `provider ${p}'s most requests at once`).toBe(concurrency);
    }
  });

  it("keeps two busy channels apart: every answer names its own channel and echoes its own request, both ways", async () => {
    const { address } = await e2e.broker();
    const channels = { a: channel(), b: channel() };
    const seen: Array<{ label: string; channelId: string; clientId: string; request: string }> = [];
    for (const [label, id] of Object.entries(channels)) {
      for (let p = 0; p < 2; p++) {
        await e2e.provider(address, id, async (payload, ctx) => {
          seen.push({ label, channelId: ctx.channelId, clientId: ctx.clientId, request: payload.subarray(0, 40).toString("latin1") });
          await delay(payload.length % 3);
          return Buffer.concat([Buffer.from(`${label}|${ctx.channelId}|`), payload]);
        });
      }
    }
    const members = await Promise.all(
      Object.entries(channels).flatMap(([label, id]) => [0, 1].map(async (c) => ({ label, id, c, consumer: await e2e.consumer(address, id) }))),
    );
    const clientIds = new Map(members.map(({ label, consumer }) => [consumer.clientId, label]));
    await Promise.all(
      members.flatMap(({ label, id, c, consumer }) =>
        Array.from({ length: 300 }, async (_, i) => {
          // Every 50th request streams over two frames each way, interleaving with the small ones.
          const size = i % 50 === 0 ? MiB + 4321 : 10 + ((i * 37) % 2000);
          const head = `${label}:${c}:${i}:`;
          const request = Buffer.concat([Buffer.from(head), Buffer.alloc(size, `${label}${c}${i}`)]);
          const answer = await consumer.send(request, 60_000);
          expect(answer.equals(Buffer.concat([Buffer.from(`${label}|${id}|`), request])), `answer to ${head}`).toBe(true);
        }),
      ),
    );
    expect(seen).toHaveLength(4 * 300);
    for (const { label, channelId, clientId, request } of seen) {
      expect(channelId, `a provider of ${label} got ${request}`).toBe(channels[label as keyof typeof channels]);
      expect(request.startsWith(`${label}:`), `a provider of ${label} got ${request}`).toBe(true);
      expect(clientIds.get(clientId), `the sender of ${request}`).toBe(label);
    }
  });

  // Regression: the broker hands waiting requests to a provider the moment it registers, so their
  // STARTs follow the registration ack in the same socket write. BaseClient used to open the
  // session only after an await, and the provider refused those STARTs with SHUTTING_DOWN.
  it("a provider that registers while requests wait on its channel serves them, though they arrive right behind its registration ack", async () => {
    const { address, server } = await e2e.broker();
    const id = channel();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await e2e.provider(
      address,
      id,
      async (payload) => {
        await held;
        return `first: ${payload}`;
      },
      { concurrency: 1 },
    );
    const consumer = await e2e.consumer(address, id);
    const outcomes = [0, 1, 2, 3].map((i) =>
      consumer.send(`r${i}`, 10_000).then(String, (error: { code?: string }) => `rejected ${error.code}`),
    );
    await vi.waitFor(() => expect(server.stats()).toMatchObject({ inFlight: 1, queued: 3 }));
    await e2e.provider(address, id, (payload) => `second: ${payload}`);
    const late = await Promise.all(outcomes.slice(1));
    release();
    expect(await outcomes[0]).toBe("first: r0");
    expect(late).toEqual(["second: r1", "second: r2", "second: r3"]);
  });
});
