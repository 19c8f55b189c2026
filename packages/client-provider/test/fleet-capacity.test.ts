import { decodeCapacity, decodeErrorBody, FrameType, idToBytes, newIdString } from "@switchyard/protocol";
import { FakeBroker, onCleanup, RawClient } from "@switchyard/testing";
import { describe, expect, it, vi } from "vitest";
import { Provider } from "../src/index.js";

/*
 * A provider attached to two fake brokers, one that acks protocol 1.1 and one that acks 1.0 (the
 * fake forwards every request, whatever the capacity): which brokers it tells its capacity with
 * CAPACITY (docs/protocol.md §1.21), and what it does with requests past a broker's capacity.
 */

const FAST = { closeTimeout: 500, reconnectDelay: 20, maxReconnectDelay: 100 };

async function fakeBroker(version: { major: number; minor: number } | undefined): Promise<FakeBroker> {
  const broker = new FakeBroker();
  broker.ackVersion = version;
  await broker.start(0);
  onCleanup(() => broker.stop());
  return broker;
}

async function consumerOf(broker: FakeBroker, channelId: string): Promise<RawClient> {
  const consumer = await (await RawClient.connect(broker.port)).register({ role: "consumer", channelId: Buffer.from(idToBytes(channelId)) });
  onCleanup(() => consumer.destroy());
  return consumer;
}

/** The capacities a broker was sent with CAPACITY, in order. */
const capacitiesSent = (broker: FakeBroker) => broker.frames("provider", FrameType.CAPACITY).map((frame) => decodeCapacity(frame.payload));

describe("a provider on a 1.1 broker and a 1.0 broker", () => {
  it("moves capacity to the busy 1.1 broker with CAPACITY, never sends one to the 1.0 broker, and refuses a request past a broker's capacity with OVERLOADED", async () => {
    const [modern, old] = [await fakeBroker({ major: 1, minor: 1 }), await fakeBroker(undefined)];
    const channelId = newIdString();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const provider = await Provider.connect([modern.address, old.address], channelId, async (payload) => {
      await gate;
      return payload;
    }, { ...FAST, concurrency: 8 });
    onCleanup(() => provider.close());
    await vi.waitFor(() => expect(provider.stats().brokers).toEqual({ [modern.address]: "open", [old.address]: "open" }));
    // 1 + floor(7 / 2) each, in the registrations
    expect(modern.registrations.concat(old.registrations).map((registration) => registration.capacity)).toEqual([4, 4]);

    // The 1.1 broker's 4 all in use: it gets the 1 extra nobody holds (the 1.0 broker's idle 3 cannot be moved).
    const onModern = await consumerOf(modern, channelId);
    const modernIds = [1, 2, 3, 4].map((i) => onModern.request(`m${i}`, 10_000));
    await vi.waitFor(() => expect(capacitiesSent(modern)).toEqual([5]));
    expect(provider.stats().capacities).toEqual({ [modern.address]: 5, [old.address]: 4 });
    for (const frame of modern.frames("provider", FrameType.CAPACITY)) expect(frame.requestId).toBe("00".repeat(16));

    // The 1.0 broker busy too: it is never sent CAPACITY; a 5th request it forwards past its 4 is refused.
    const onOld = await consumerOf(old, channelId);
    const oldIds = [1, 2, 3, 4].map((i) => onOld.request(`o${i}`, 10_000));
    await vi.waitFor(() => expect(provider.inFlight).toBe(8));
    const past = onOld.request("one too many", 10_000);
    expect(decodeErrorBody((await onOld.nextOf(FrameType.ERROR, past)).payload).code).toBe("OVERLOADED");
    await new Promise((resolve) => setTimeout(resolve, 100)); // a rebalance would have run by now
    expect(capacitiesSent(old)).toEqual([]);

    release();
    for (const id of modernIds) await onModern.response(id);
    for (const id of oldIds) await onOld.response(id);
    expect(provider.stats().requests).toBe(8);
  });
});
