import { FrameType } from "@switchyard/protocol";
import { randomBody } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokerError } from "../src/index.js";
import { ProviderRig } from "./fixtures/provider-rig.js";

describe("how a handler's failure reaches the consumer", () => {
  let rig: ProviderRig;
  beforeEach(async () => {
    rig = await new ProviderRig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a handler that throws answers HANDLER_ERROR with its message", async () => {
    await rig.provider(async () => {
      throw new Error("database is down");
    });
    const consumer = await rig.consumer();
    const error = await consumer.call("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "HANDLER_ERROR", message: "database is down" });
  });

  it("a handler that throws a BrokerError answers with that error's code", async () => {
    await rig.provider(() => {
      throw new BrokerError("OVERLOADED", "busy, try later");
    });
    const consumer = await rig.consumer();
    await expect(consumer.call("x")).rejects.toMatchObject({ code: "OVERLOADED", message: "busy, try later" });
  });

  it("a stream answer that fails midway ends the request with HANDLER_ERROR", async () => {
    await rig.provider(async function* () {
      yield randomBody(2 * 1024 * 1024);
      throw new Error("disk read failed");
    });
    const consumer = await rig.consumer();
    const id = consumer.request("x");
    await expect(consumer.response(id)).rejects.toMatchObject({ code: "HANDLER_ERROR", message: "disk read failed" });
    expect(rig.broker.frames("provider", FrameType.RESPONSE_START)).toHaveLength(1); // it had started to answer
  });

  it("a request over the provider's maxRequestBytes is answered PAYLOAD_TOO_LARGE without reaching the handler", async () => {
    const handler = vi.fn(() => "never");
    await rig.provider(handler, { maxRequestBytes: 1000 });
    const consumer = await rig.consumer();
    await expect(consumer.call(randomBody(1001))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(consumer.response(consumer.requestStreamed(randomBody(3 * 1024 * 1024)))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await consumer.call(randomBody(1000)).then(String)).toBe("never");
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
