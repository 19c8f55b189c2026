import type { ClientState } from "@switchyard/client-consumer";
import { DisconnectedError } from "@switchyard/client-consumer";
import { Role } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Rig } from "./fixtures/clients.js";

describe("when the broker goes away", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("requests in flight fail at once with DISCONNECTED; both clients reconnect and register again once it is back", async () => {
    const handlerSignals: AbortSignal[] = [];
    await rig.provider(async (payload, ctx) => {
      if (String(payload) === "hang") {
        handlerSignals.push(ctx.signal);
        await new Promise(() => {});
      }
      return `processed: ${payload}`;
    });
    const states: ClientState[] = [];
    const consumer = await rig.consumer({ onStateChange: (state) => states.push(state) });
    // Caught from the start: it fails while crash() is still closing the broker's side.
    const inFlight = consumer.send("hang", 20_000).catch((e: unknown) => e);
    await vi.waitFor(() => expect(handlerSignals).toHaveLength(1));

    const lostAt = performance.now();
    await rig.broker.crash();
    const error = await inFlight;
    expect(error).toBeInstanceOf(DisconnectedError);
    expect(error).toMatchObject({ code: "DISCONNECTED" });
    expect(performance.now() - lostAt).toBeLessThan(10_000); // at once, not at its 20 s deadline
    await vi.waitFor(() => expect(handlerSignals[0]!.aborted).toBe(true));
    expect(handlerSignals[0]!.reason).toMatchObject({ code: "DISCONNECTED" });

    // While the broker is away, sends fail fast.
    await vi.waitFor(() => expect(consumer.state).toBe("reconnecting"));
    await expect(consumer.send("while away")).rejects.toMatchObject({ code: "DISCONNECTED" });

    await rig.broker.start(); // same port
    await vi.waitFor(() => expect(consumer.state).toBe("open"), { timeout: 10_000 });
    await vi.waitFor(() => expect(rig.broker.registrations).toHaveLength(4), { timeout: 10_000 });
    const roles = rig.broker.registrations.slice(2).map((r) => r.role).sort();
    expect(roles).toEqual([Role.CONSUMER, Role.PROVIDER]);
    expect(String(await consumer.send("again"))).toBe("processed: again");
    expect(states).toEqual(["open", "reconnecting", "open"]);
  });

  it("a reconnect refused with DUPLICATE_CLIENT (old connection not yet noticed) is retried until accepted", async () => {
    await rig.provider(async (payload) => `ok ${payload}`);
    const consumer = await rig.consumer();
    await rig.broker.crash();
    await vi.waitFor(() => expect(consumer.state).toBe("reconnecting"));
    rig.broker.refuse("DUPLICATE_CLIENT", 3);
    await rig.broker.start();
    await vi.waitFor(() => expect(consumer.state).toBe("open"), { timeout: 10_000 });
    await vi.waitFor(() => expect(String(rig.broker.registrations.length)).toBe("4"), { timeout: 10_000 });
    expect(String(await consumer.send("x"))).toBe("ok x");
  });

  it("with maxReconnectAttempts 0 a lost broker closes the client", async () => {
    const consumer = await rig.consumer({ maxReconnectAttempts: 0 });
    await rig.broker.crash();
    await vi.waitFor(() => expect(consumer.state).toBe("closed"));
    await expect(consumer.send("x")).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("a client that cannot get back within maxReconnectAttempts gives up and closes", async () => {
    const consumer = await rig.consumer({ maxReconnectAttempts: 3, reconnectDelay: 1, maxReconnectDelay: 5 });
    await rig.broker.crash();
    await vi.waitFor(() => expect(consumer.state).toBe("closed"), { timeout: 10_000 });
  });

  it("close() while reconnecting stops reconnecting", async () => {
    const consumer = await rig.consumer();
    await rig.broker.crash();
    await vi.waitFor(() => expect(consumer.state).toBe("reconnecting"));
    await consumer.close();
    expect(consumer.state).toBe("closed");
    await rig.broker.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rig.broker.registrations).toHaveLength(1);
  });
});
