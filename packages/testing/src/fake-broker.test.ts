import { FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { FakeBroker } from "./fake-broker.js";
import { ConnectionLeakError } from "./leak-check.js";
import { RawClient } from "./raw-client.js";

describe("FakeBroker with raw clients", () => {
  it("routes a consumer's request to a provider of its channel and the answer back, streamed or whole, and records both sides", async () => {
    const broker = await new FakeBroker().start(0);
    const channelId = newId();
    const provider = await (await RawClient.connect(broker.port)).register({ role: "provider", channelId, capacity: 2 });
    const consumer = await (await RawClient.connect(broker.port)).register({ role: "consumer", channelId });
    const whole = consumer.request("whole");
    const streamed = consumer.requestStreamed(Buffer.from("streamed"), 0, 3);
    const start = await provider.nextOf(FrameType.START);
    expect(start.payload.subarray(RawClient.routingOf(start).length + 4).toString()).toBe("whole");
    provider.respond(start, "answer");
    expect(String(await consumer.response(whole))).toBe("answer");
    const second = await provider.nextOf(FrameType.START);
    const routing = RawClient.routingOf(second);
    provider.send(FrameType.RESPONSE_START, 0, second.requestId, routing, Buffer.from("str"));
    provider.send(FrameType.RESPONSE_CHUNK, 0, second.requestId, Buffer.from("eam"));
    provider.send(FrameType.RESPONSE_END, 0, second.requestId);
    expect(String(await consumer.response(streamed))).toBe("stream");
    expect(broker.frames("consumer", FrameType.CHUNK)).toHaveLength(3);
    expect(broker.registrations.map((r) => r.capacity)).toEqual([2, undefined]);
    consumer.destroy();
    provider.destroy();
    await broker.stop();
  });

  it("answers NO_PROVIDER without a provider, and a refused registration with the code asked for", async () => {
    const broker = await new FakeBroker().start(0);
    const consumer = await (await RawClient.connect(broker.port)).register({ role: "consumer", channelId: newId() });
    await expect(consumer.call("anyone?")).rejects.toMatchObject({ code: "NO_PROVIDER" });
    broker.refuse("UNAUTHORIZED", 1, "no entry");
    const refused = await RawClient.connect(broker.port);
    const answer = await refused.registerRaw({ role: "consumer", channelId: newId() });
    expect(answer.type).toBe(FrameType.ERROR);
    await refused.waitClosed();
    consumer.destroy();
    await broker.stop();
  });

  it("stop() fails with ConnectionLeakError while a client is still connected", async () => {
    const broker = await new FakeBroker().start(0);
    const leaked = await (await RawClient.connect(broker.port)).register({ role: "consumer", channelId: newId() });
    await expect(broker.stop(100)).rejects.toBeInstanceOf(ConnectionLeakError);
    await leaked.waitClosed(); // stop() closed it all the same
  });
});
