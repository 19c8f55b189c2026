import { FrameType } from "@switchyard/protocol";
import { BrokerError, ConnectError, Consumer, InvalidArgumentError } from "@switchyard/client-consumer";
import { CancelledError } from "@switchyard/client-provider";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { randomBody } from "@switchyard/testing";
import { Rig } from "./fixtures/clients.js";

/** Resolves when `signal` aborts, with its reason. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
}

describe("how a request fails", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a request past its timeout rejects with TIMEOUT whose stack points at the send() call, and CANCEL reaches the provider", async () => {
    const reasons: unknown[] = [];
    await rig.provider(async (_payload, ctx) => {
      reasons.push(await aborted(ctx.signal));
      return "too late";
    });
    const consumer = await rig.consumer();
    const error = await consumer.send("slow", 150).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TimeoutError", code: "TIMEOUT" });
    expect((error as Error).stack).toContain("failures.test.ts");
    await vi.waitFor(() => expect(reasons).toHaveLength(1));
    expect(reasons[0]).toBeInstanceOf(CancelledError);
    expect(reasons[0]).toMatchObject({ code: "CANCELLED" });
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
    // After cancel the provider sends nothing more for that request, though its handler answered.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rig.broker.frames("provider", FrameType.RESPONSE)).toHaveLength(0);
    expect(consumer.inFlight).toBe(0);
  });

  it("aborting a request rejects it with ABORTED carrying the signal's reason, and sends CANCEL", async () => {
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    await rig.provider(async (_payload, ctx) => {
      started();
      await aborted(ctx.signal);
      return "";
    });
    const consumer = await rig.consumer();
    const controller = new AbortController();
    const pending = consumer.send("x", { timeout: 10_000, signal: controller.signal });
    await handlerStarted;
    controller.abort(new Error("user gave up"));
    await expect(pending).rejects.toMatchObject({ code: "ABORTED", cause: { message: "user gave up" } });
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
  });

  it("a request whose signal is already aborted is refused without sending anything", async () => {
    const consumer = await rig.consumer();
    await expect(consumer.send("x", { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rig.broker.frames("consumer", FrameType.START)).toHaveLength(0);
  });

  it("a channel without providers answers NO_PROVIDER", async () => {
    const consumer = await rig.consumer();
    await expect(consumer.send("x")).rejects.toMatchObject({ code: "NO_PROVIDER" });
  });

  it("an answer over maxResponseBytes rejects with PAYLOAD_TOO_LARGE and sends CANCEL", async () => {
    await rig.provider(async () => randomBody(3 * 1024 * 1024));
    const consumer = await rig.consumer({ maxResponseBytes: 1024 * 1024 });
    await expect(consumer.send("x")).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
    const chunks: Buffer[] = [];
    const streamed = (async () => {
      for await (const chunk of consumer.stream("x")) chunks.push(chunk);
    })();
    await expect(streamed).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("a body stream that throws rejects the request with that error and cancels it", async () => {
    await rig.provider(async (payload) => payload);
    const consumer = await rig.consumer();
    async function* failing() {
      yield randomBody(1024 * 1024);
      yield randomBody(10);
      throw new Error("source broke");
    }
    await expect(consumer.send(failing())).rejects.toThrow("source broke");
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
  });

  it("leaving a stream() loop early cancels the request", async () => {
    await rig.provider(async () => randomBody(5 * 1024 * 1024));
    const consumer = await rig.consumer();
    for await (const _chunk of consumer.stream("x")) break;
    expect(consumer.inFlight).toBe(0);
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
  });

  it("bad send options are refused with INVALID_ARGUMENT naming the option", async () => {
    const consumer = await rig.consumer();
    await expect(consumer.send("x", -5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(consumer.send("x", { timeout: 0 })).rejects.toThrow(/timeout/);
  });
});

describe("connecting", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a refused registration rejects connect() with the broker's error", async () => {
    rig.broker.refuse("UNAUTHORIZED");
    const error = await Consumer.connect(rig.broker.address, rig.channelId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("an address nobody listens on rejects with CONNECT_FAILED, Node's error kept as cause", async () => {
    const address = rig.broker.address;
    await rig.broker.crash();
    const error = await Consumer.connect(address, rig.channelId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: "CONNECT_FAILED", cause: { code: "ECONNREFUSED" } });
  });

  it("bad arguments are refused with INVALID_ARGUMENT naming what is wrong", async () => {
    await expect(Consumer.connect("no-port", rig.channelId)).rejects.toThrow(/address/);
    await expect(Consumer.connect(rig.broker.address, "not-a-uuid")).rejects.toThrow(/channelId/);
    await expect(Consumer.connect(rig.broker.address, rig.channelId, { maxResponseBytes: -1 })).rejects.toThrow(/maxResponseBytes/);
    await expect(Consumer.connect(rig.broker.address, rig.channelId, { connectTimeout: 0 })).rejects.toThrow(/connectTimeout/);
  });

  it("an authToken or clientName too long for the registration is refused with INVALID_ARGUMENT naming it, not as BAD_REGISTRATION", async () => {
    const token = await Consumer.connect(rig.broker.address, rig.channelId, { authToken: "t".repeat(0x10000) }).catch((e: unknown) => e);
    expect(token).toBeInstanceOf(InvalidArgumentError);
    expect(token).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/^authToken of 65536 bytes/) });
    const name = await Consumer.connect(rig.broker.address, rig.channelId, { clientName: "é".repeat(0x8000) }).catch((e: unknown) => e);
    expect(name).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/^clientName of 65536 bytes/) });
    // The broker saw no registration, and still serves a client that registers properly.
    expect(rig.broker.received).toHaveLength(0);
    await rig.consumer();
  });
});
