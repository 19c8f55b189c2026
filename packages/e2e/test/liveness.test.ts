import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

describe("liveness: frozen peers through the real clients", () => {
  const e2e = useE2E();

  it("a provider process frozen with SIGSTOP is evicted at the broker's read timeout, and its channel's requests then go to the live provider", async () => {
    const readTimeout = 1500;
    const { address, server } = await e2e.broker({ readTimeout });
    const id = channel();
    const frozen = await e2e.spawnProvider(address, id, "hang", 64);
    // the in-process clients PING well within the read timeout, as a deployment would set them
    const alive = { pingInterval: 200 };
    await e2e.provider(address, id, (payload) => `live: ${payload}`, alive);
    const consumer = await e2e.consumer(address, id, alive);
    process.kill(frozen.pid, "SIGSTOP"); // its kernel still ACKs: to the broker the socket looks open
    const frozenAt = performance.now();

    // Requests keep coming; the broker keeps writing to the frozen one (STARTs, then CANCELs at
    // each deadline), which must not count as hearing from it.
    const during: Array<Promise<string>> = [];
    let evictedAfter = -1;
    for (let n = 0; evictedAfter < 0 && performance.now() - frozenAt < readTimeout * 4; n++) {
      const body = `during ${n}`;
      during.push(consumer.send(body, 300).then(String, (error: { code?: string }) => error.code ?? "?"));
      await delay(20);
      if (server.stats().providers === 1) evictedAfter = performance.now() - frozenAt;
    }
    expect(evictedAfter, "the frozen provider was never evicted").toBeGreaterThan(0);
    expect(evictedAfter).toBeLessThan(readTimeout * 2); // the read timeout, its check step, a busy machine
    for (const outcome of await Promise.all(during)) expect(["TIMEOUT", "PROVIDER_GONE"].includes(outcome) || outcome.startsWith("live: ")).toBe(true);
    expect((await Promise.all(during)).filter((outcome) => outcome === "TIMEOUT" || outcome === "PROVIDER_GONE").length).toBeGreaterThan(0);

    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => consumer.send(`after ${i}`, 5000)));
    expect(after.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `live: after ${i}`));
    expect(server.stats()).toMatchObject({ providers: 1, inFlight: 0 });
  });

  it("with the default 2 min read timeout, a provider process frozen with SIGSTOP is closed once a request it holds times out and it answers nothing for pingTimeout", async () => {
    const pingTimeout = 1000;
    const { address, server } = await e2e.broker({ pingTimeout });
    const id = channel();
    const frozen = await e2e.spawnProvider(address, id, "hang", 64);
    const consumer = await e2e.consumer(address, id);
    process.kill(frozen.pid, "SIGSTOP");
    const frozenAt = performance.now();
    await expect(consumer.send("routed to the frozen one", 300)).rejects.toMatchObject({ code: "TIMEOUT" });
    await vi.waitFor(() => expect(server.stats().providers).toBe(0), { timeout: pingTimeout * 10, interval: 20 });
    expect(performance.now() - frozenAt).toBeLessThan(300 + pingTimeout * 3);
    await e2e.provider(address, id, (payload) => `live: ${payload}`);
    expect(String(await consumer.send("now", 5000))).toBe("live: now");
  });
});
