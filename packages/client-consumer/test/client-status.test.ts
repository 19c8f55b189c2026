import type { ClientStatus } from "@switchyard/client-consumer";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Rig } from "./fixtures/clients.js";

/** Collects a client's status events in the background until its iterator ends. */
function collect(events: AsyncIterableIterator<ClientStatus>): { seen: ClientStatus[]; ended: Promise<void> } {
  const seen: ClientStatus[] = [];
  const ended = (async () => {
    for await (const event of events) seen.push(event);
  })();
  return { seen, ended };
}

describe("client status, closed() and stats()", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a consumer reports disconnected, reconnecting and connected across a broker restart, counts it, and ends with closed", async () => {
    const provider = await rig.provider(async (payload) => `processed: ${payload}`);
    const consumer = await rig.consumer({ reconnectDelay: 10, maxReconnectDelay: 50 });
    const consumerEvents = collect(consumer.status());
    const providerEvents = collect(provider.status());
    expect(String(await consumer.send("one"))).toBe("processed: one");
    await expect(consumer.send("x", { timeout: 1, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });

    await rig.broker.crash();
    await vi.waitFor(() => expect(consumer.state).toBe("reconnecting"));
    await rig.broker.start();
    await vi.waitFor(() => expect(consumer.state).toBe("open"), { timeout: 10_000 });
    await vi.waitFor(() => expect(provider.state).toBe("open"), { timeout: 10_000 });
    expect(String(await consumer.send("two"))).toBe("processed: two");

    const stats = consumer.stats();
    expect(stats).toMatchObject({ state: "open", reconnects: 1, requests: 2, serverId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(stats.bytesSent).toBeGreaterThan(0);
    expect(stats.bytesReceived).toBeGreaterThan(0);
    expect(provider.stats()).toMatchObject({ reconnects: 1, requests: 2 });

    const types = consumerEvents.seen.map((event) => event.type);
    expect(types[0]).toBe("disconnected");
    expect(types.slice(1, -1).every((type) => type === "reconnecting")).toBe(true);
    expect(types.at(-1)).toBe("connected");
    expect(consumerEvents.seen.at(-1)).toMatchObject({ type: "connected", reconnect: true, server: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(consumerEvents.seen[1]).toMatchObject({ type: "reconnecting", attempt: 1, delayMs: expect.any(Number) });
    expect(consumerEvents.seen[0]).toMatchObject({ type: "disconnected", error: { code: "DISCONNECTED" } });

    await consumer.close();
    await consumerEvents.ended; // the iterator ends after "closed"
    expect(consumerEvents.seen.at(-1)).toEqual({ type: "closed", error: undefined });
    expect(await consumer.closed()).toBe(undefined);
    expect(consumer.stats().state).toBe("closed");
    await provider.close();
    await providerEvents.ended;
  });

  it("a failed send counts under its error code", async () => {
    const consumer = await rig.consumer();
    await expect(consumer.send("nobody home")).rejects.toMatchObject({ code: "NO_PROVIDER" });
    expect(consumer.stats()).toMatchObject({ requests: 1, errors: { NO_PROVIDER: 1 } });
  });

  it("closed() gives the reason when the client closes itself", async () => {
    const consumer = await rig.consumer({ maxReconnectAttempts: 0 });
    const events = collect(consumer.status());
    await rig.broker.crash();
    const reason = await consumer.closed();
    expect(reason).toMatchObject({ code: "DISCONNECTED" });
    await events.ended;
    expect(events.seen.map((event) => event.type)).toEqual(["disconnected", "closed"]);
  });
});
