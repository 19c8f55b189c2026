import { Consumer } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { decodeRegistrationAck, type Frame, FrameFlags, FrameType, idToBytes, newId, ROUTING_HEADER_SIZE } from "@switchyard/protocol";
import { FakeBroker, RawClient } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

/*
 * Every pairing of protocol 1.0 and 1.1 peers (docs/protocol.md §1.5 "Version negotiation"). A 1.0
 * peer is played by the wire fixtures: RawClient registers without a version, as a 1.0 client
 * does; FakeBroker acks with the 21 bytes of 1.0 and no version. 1.1 ⇄ 1.1 is the real clients
 * and the broker in its own process.
 */

const V1_0 = { major: 1, minor: 0 };
const V1_1 = { major: 1, minor: 1 };

/** The ack frame's payload must be exactly `bytes` long; returns it decoded. */
function ackOf(frame: Frame, bytes: number) {
  expect(frame.type).toBe(FrameType.RESPONSE);
  expect(frame.flags).toBe(FrameFlags.REGISTRATION);
  expect(frame.payload).toHaveLength(bytes);
  return decodeRegistrationAck(frame.payload);
}

describe("protocol versions: 1.0 and 1.1 peers in every pairing", () => {
  const e2e = useE2E();

  it("1.1 clients through a 1.1 broker process negotiate 1.1 and exchange requests", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const provider = await e2e.provider(address, id, (payload) => `1.1 says ${payload}`);
    const consumer = await e2e.consumer(address, id);
    expect(provider.protocolVersion).toEqual(V1_1);
    expect(consumer.protocolVersion).toEqual(V1_1);
    expect(String(await consumer.send("hi", 5000))).toBe("1.1 says hi");
  });

  it("a 1.0 client gets the 21-byte ack of 1.0 from a 1.1 broker and exchanges requests with 1.1 clients both ways", async () => {
    const { address } = await e2e.cliBroker();
    const toNew = channel();
    await e2e.provider(address, toNew, (payload) => `new provider: ${payload}`);
    const oldConsumer = await RawClient.open(address);
    const ack = ackOf(await oldConsumer.registerRaw({ role: "consumer", channelId: Buffer.from(idToBytes(toNew)) }), 21);
    expect(ack).toMatchObject({ protocolVersion: 1, maxPayload: 1_048_576 });
    expect(ack.version).toBeUndefined();
    expect(String(await oldConsumer.call("from 1.0", 5000))).toBe("new provider: from 1.0");

    const toOld = channel();
    const oldProvider = await RawClient.open(address);
    ackOf(await oldProvider.registerRaw({ role: "provider", channelId: Buffer.from(idToBytes(toOld)), capacity: 4 }), 21);
    const consumer = await e2e.consumer(address, toOld);
    expect(consumer.protocolVersion).toEqual(V1_1);
    const answer = consumer.send("from 1.1", 5000);
    const start = await oldProvider.nextOf(FrameType.START);
    // exactly the 1.0 forwarded START: FINAL only, routing header, time left, body
    expect(start.flags).toBe(FrameFlags.FINAL);
    expect(start.payload.subarray(ROUTING_HEADER_SIZE + 4).toString()).toBe("from 1.1");
    oldProvider.respond(start, "old provider: ok");
    expect(String(await answer)).toBe("old provider: ok");
  });

  it("the ack names the older of the client's version and the broker's: 1.1 to a client announcing 1.9, 1.0 to one announcing 1.0", async () => {
    const { address } = await e2e.cliBroker();
    const newer = await RawClient.open(address);
    // 1.1: the version, then the broker's stream window (§1.20): 21 + 5 + 7 bytes
    const acked = ackOf(await newer.registerRaw({ role: "consumer", channelId: newId(), version: { major: 1, minor: 9 } }), 33);
    expect(acked).toMatchObject({ version: V1_1, streamWindow: 4 * 1024 * 1024 });
    const older = await RawClient.open(address);
    expect(ackOf(await older.registerRaw({ role: "consumer", channelId: newId(), version: V1_0 }), 26).version).toEqual(V1_0);
    const next = await RawClient.open(address);
    expect(ackOf(await next.registerRaw({ role: "consumer", channelId: newId(), version: { major: 2, minor: 0 } }), 33).version).toEqual(V1_1);
  });

  it("1.1 clients register with a 1.0 broker (its ack has no version), speak 1.0 and exchange requests", async () => {
    const broker = await new FakeBroker().start(0);
    const id = channel();
    const provider = await Provider.connect(broker.address, id, (payload) => `via 1.0: ${payload}`);
    const consumer = await Consumer.connect(broker.address, id);
    try {
      expect(provider.protocolVersion).toEqual(V1_0);
      expect(consumer.protocolVersion).toEqual(V1_0);
      // they announced 1.1, in an extension a 1.0 broker skips
      expect(broker.registrations.map((registration) => registration.version)).toEqual([V1_1, V1_1]);
      expect(String(await consumer.send("hello", 5000))).toBe("via 1.0: hello");
    } finally {
      await consumer.close();
      await provider.close();
      await broker.stop();
    }
  });
});
