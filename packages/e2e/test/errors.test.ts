import { describe, expect, it, vi } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

/** A promise and the functions that settle it: a handler holds a request until the test lets go. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The rejection of `promise`, or a failure if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ("value" in outcome) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  return outcome.error as Error & { code?: string };
}

describe("errors provoked through the real clients, each leaving other channels flowing", () => {
  const e2e = useE2E();

  it("a channel without providers answers NO_PROVIDER, also once its only provider has left", async () => {
    const { address } = await e2e.broker();
    const bystander = await e2e.bystander(address);
    const id = channel();
    const consumer = await e2e.consumer(address, id);
    await expect(consumer.send("anyone?", 5000)).rejects.toMatchObject({ code: "NO_PROVIDER" });
    const provider = await e2e.provider(address, id, (payload) => `here: ${payload}`);
    expect(String(await consumer.send("anyone?", 5000))).toBe("here: anyone?");
    await provider.close();
    await vi.waitFor(async () => expect(await rejectionOf(consumer.send("still?", 5000))).toMatchObject({ code: "NO_PROVIDER" }));
    await bystander.expectFlowing();
  });

  it("a handler that hangs past the deadline: the consumer gets TIMEOUT and the handler's signal aborts with CANCELLED", async () => {
    const { address } = await e2e.broker();
    const bystander = await e2e.bystander(address);
    const id = channel();
    const reasons: unknown[] = [];
    const provider = await e2e.provider(address, id, async (_payload, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      reasons.push(ctx.signal.reason);
      return "too late";
    });
    const consumer = await e2e.consumer(address, id);
    await expect(consumer.send("wait for me", 300)).rejects.toMatchObject({ code: "TIMEOUT" });
    await vi.waitFor(() => expect(reasons).toHaveLength(1));
    expect(reasons[0]).toMatchObject({ code: "CANCELLED" });
    await vi.waitFor(() => expect(provider.inFlight).toBe(0));
    await bystander.expectFlowing();
  });

  it("a provider process killed mid-request fails the request with PROVIDER_GONE within 1 s of the kill", async () => {
    const { address, server } = await e2e.broker();
    const bystander = await e2e.bystander(address);
    const id = channel();
    const child = await e2e.spawnProvider(address, id, "hang", 4);
    const consumer = await e2e.consumer(address, id);
    const outcome = rejectionOf(consumer.send("hold this", 30_000));
    await child.untilLine("got");
    const killedAt = performance.now();
    child.child.kill("SIGKILL");
    const error = await outcome;
    const afterMs = performance.now() - killedAt;
    expect(error).toMatchObject({ code: "PROVIDER_GONE" });
    expect(afterMs, "ms from SIGKILL to PROVIDER_GONE").toBeLessThan(1000);
    await child.exited;
    expect(server.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    await bystander.expectFlowing();
  });

  it("a full request queue refuses the next request with OVERLOADED; the queued ones are served once capacity frees", async () => {
    const { address, server } = await e2e.broker({ maxQueuedRequests: 2 });
    const bystander = await e2e.bystander(address);
    const id = channel();
    const release = gate();
    const held: string[] = [];
    await e2e.provider(
      address,
      id,
      async (payload) => {
        held.push(String(payload));
        await release.promise;
        return `done ${payload}`;
      },
      { concurrency: 1 },
    );
    const consumer = await e2e.consumer(address, id);
    const first = consumer.send("1", 10_000);
    await vi.waitFor(() => expect(held).toEqual(["1"]));
    const queued = [consumer.send("2", 10_000), consumer.send("3", 10_000)];
    await vi.waitFor(() => expect(server.stats().queued).toBe(2));
    await expect(consumer.send("4", 10_000)).rejects.toMatchObject({ code: "OVERLOADED" });
    expect(server.stats().overloaded).toBe(1);
    await bystander.expectFlowing(); // its provider has room: the full queue is not in its way
    release.open();
    expect((await Promise.all([first, ...queued])).map(String)).toEqual(["done 1", "done 2", "done 3"]);
    await bystander.expectFlowing();
  });

  it("a request over maxRequestBytes — the broker's for one frame, the assembling provider's for a flow-controlled stream (which the broker relays at any size) — and an answer over the consumer's maxResponseBytes fail with PAYLOAD_TOO_LARGE", async () => {
    const { address } = await e2e.broker({ maxRequestBytes: 64 * 1024 });
    const bystander = await e2e.bystander(address);
    const id = channel();
    const handled: number[] = [];
    await e2e.provider(
      address,
      id,
      (payload) => {
        handled.push(payload.length);
        return Buffer.alloc(payload.length * 2, 1);
      },
      { maxRequestBytes: 64 * 1024 },
    );
    const consumer = await e2e.consumer(address, id, { maxResponseBytes: 8 * 1024 });
    await expect(consumer.send(Buffer.alloc(64 * 1024 + 1), 10_000)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(consumer.send(Buffer.alloc(3 * 1024 * 1024), 10_000)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(handled, "requests over the limit never reach the handler").toEqual([]);
    await expect(consumer.send(Buffer.alloc(5000), 10_000)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect((await consumer.send(Buffer.alloc(4000), 10_000)).length).toBe(8000);
    expect(handled).toEqual([5000, 4000]);
    await bystander.expectFlowing();
  });

  it("stop() drains: new requests get SHUTTING_DOWN and new clients cannot connect, while in-flight and queued ones, on every channel, still get their answers", async () => {
    const { address, server } = await e2e.broker();
    const release = gate();
    const handler = async (payload: Buffer) => {
      await release.promise;
      return `done ${payload}`;
    };
    const member = async (id: string) => {
      await e2e.provider(address, id, handler, { concurrency: 1 });
      return e2e.consumer(address, id);
    };
    const mine = await member(channel());
    const other = await member(channel());
    const pending = [mine.send("in flight", 10_000), mine.send("queued", 10_000), other.send("other channel", 10_000)];
    await vi.waitFor(() => expect(server.stats()).toMatchObject({ inFlight: 2, queued: 1 }));
    const stopped = server.stop({ timeout: 10_000 });
    await expect(mine.send("too late", 10_000)).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    await expect(other.send("too late", 10_000)).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    await expect(e2e.consumer(address, channel()), "a client connecting while the broker drains").rejects.toMatchObject({
      code: "CONNECT_FAILED",
    });
    release.open();
    expect((await Promise.all(pending)).map(String)).toEqual(["done in flight", "done queued", "done other channel"]);
    await stopped;
    expect(server.state).toBe("stopped");
  });
});
