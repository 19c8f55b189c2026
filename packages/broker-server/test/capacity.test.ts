import { decodeErrorBody, encodeCapacity, FrameType, newId } from "@switchyard/protocol";
import type { RawClient } from "@switchyard/testing";
import { describe, expect, it, vi } from "vitest";
import { useBrokerHarness } from "./harness.js";

/*
 * CAPACITY (docs/protocol.md §1.21) over real sockets: a 1.1 provider changes its capacity on its
 * connection; bad CAPACITY frames close only the connection that sent them.
 */

const h = useBrokerHarness();
const V1_1 = { major: 1, minor: 1 };
const ZERO_ID = Buffer.alloc(16);

/** The connection was answered PROTOCOL_ERROR on the all-zero id, with a message matching `why`, and closed. */
async function expectViolation(client: RawClient, why: RegExp): Promise<void> {
  const error = await client.nextOf(FrameType.ERROR, ZERO_ID);
  expect(decodeErrorBody(error.payload)).toMatchObject({ code: "PROTOCOL_ERROR", message: expect.stringMatching(why) });
  await client.waitClosed();
}

describe("CAPACITY: a provider changes its capacity on a connection (1.1)", () => {
  it("raised, the requests waiting for it are forwarded at once; lowered, no more until the provider is under it", async () => {
    const server = await h.start();
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 1, version: V1_1 });
    const consumer = await h.consumer(server, channelId);
    const ids = ["a", "b", "c"].map((body) => consumer.request(body, 10_000));
    const first = await provider.nextOf(FrameType.START);
    await provider.expectNothing((frame) => frame.type === FrameType.START);
    expect(server.stats()).toMatchObject({ inFlight: 1, queued: 2 });

    provider.send(FrameType.CAPACITY, 0, ZERO_ID, encodeCapacity(3));
    const [second, third] = [await provider.nextOf(FrameType.START), await provider.nextOf(FrameType.START)];
    expect(server.stats()).toMatchObject({ inFlight: 3, queued: 0 });

    provider.send(FrameType.CAPACITY, 0, ZERO_ID, encodeCapacity(1));
    const late = consumer.request("d", 10_000);
    provider.respond(first, "A");
    provider.respond(second, "B");
    expect(String(await consumer.response(ids[0]!))).toBe("A");
    expect(String(await consumer.response(ids[1]!))).toBe("B");
    await provider.expectNothing((frame) => frame.type === FrameType.START); // one in flight: at the new capacity
    provider.respond(third, "C");
    const fourth = await provider.nextOf(FrameType.START);
    provider.respond(fourth, "D");
    expect(String(await consumer.response(ids[2]!))).toBe("C");
    expect(String(await consumer.response(late))).toBe("D");
    await h.expectHealthy(server);
  });

  for (const [name, register, payload, requestId, why] of [
    ["a payload that is not 4 bytes", { version: V1_1 }, Buffer.from("000002", "hex"), ZERO_ID, /CAPACITY payload is 4 bytes, got 3/],
    ["a requestId other than the all-zero one", { version: V1_1 }, encodeCapacity(2), newId(), /all-zero requestId/],
    ["a connection that negotiated 1.0", {}, encodeCapacity(2), ZERO_ID, /negotiated 1\.0/],
  ] as const) {
    it(`closes a provider that sends CAPACITY with ${name} (PROTOCOL_ERROR), and the channel's other provider and consumer carry on`, async () => {
      const server = await h.start();
      const channelId = newId();
      const bad = await h.provider(server, channelId, { capacity: 1, ...register });
      const good = await h.provider(server, channelId, { capacity: 1, version: V1_1 });
      const consumer = await h.consumer(server, channelId);
      bad.send(FrameType.CAPACITY, 0, requestId, payload);
      await expectViolation(bad, why);
      await vi.waitFor(() => expect(server.stats().providers).toBe(1)); // the broker has let it go too
      const id = consumer.request("still served", 10_000);
      const start = await good.nextOf(FrameType.START);
      good.respond(start, "yes");
      expect(String(await consumer.response(id))).toBe("yes");
      await h.expectHealthy(server);
    });
  }

  it("closes a consumer that sends CAPACITY (PROTOCOL_ERROR); the channel's provider and other consumer carry on", async () => {
    const { server, channelId, provider, consumer } = await h.pair();
    const bad = await h.consumer(server, channelId, { version: V1_1 });
    bad.send(FrameType.CAPACITY, 0, ZERO_ID, encodeCapacity(5));
    await expectViolation(bad, /a consumer may not send frame type 13/);
    const id = consumer.request("still served", 10_000);
    provider.respond(await provider.nextOf(FrameType.START), "yes");
    expect(String(await consumer.response(id))).toBe("yes");
    await h.expectHealthy(server);
  });
});
