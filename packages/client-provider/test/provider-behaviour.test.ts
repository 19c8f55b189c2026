import { BrokerError, encodeRoutingHeader, FrameFlags, FrameType, newId, Role } from "@switchyard/protocol";
import { answerWhenAborted } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CancelledError, type RequestContext } from "../src/index.js";
import { clientIdOf, ProviderRig } from "./fixtures/provider-rig.js";

describe("provider behaviour", () => {
  let rig: ProviderRig;
  beforeEach(async () => {
    rig = await new ProviderRig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("gives the handler the request's ids and the time left before its deadline", async () => {
    const seen: Array<Omit<RequestContext, "signal" | "body">> = [];
    await rig.provider((_payload, ctx) => {
      seen.push({ requestId: ctx.requestId, clientId: ctx.clientId, channelId: ctx.channelId, timeoutMs: ctx.timeoutMs, headers: ctx.headers });
      return "";
    });
    const consumer = await rig.consumer();
    await consumer.call("x", 3000);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.clientId).toBe(clientIdOf(consumer));
    expect(seen[0]!.channelId).toBe(rig.channelId);
    expect(seen[0]!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(seen[0]!.timeoutMs).toBeGreaterThan(0);
    expect(seen[0]!.timeoutMs).toBeLessThanOrEqual(3000);
    expect(seen[0]!.headers).toEqual({}); // a 1.0 consumer's request has none
  });

  it("refuses a request beyond its declared concurrency with OVERLOADED", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await rig.provider(
      async () => {
        await gate;
        return "done";
      },
      { concurrency: 1 },
    );
    const consumer = await rig.consumer();
    const first = consumer.call("1");
    await expect(consumer.call("2")).rejects.toMatchObject({ code: "OVERLOADED" });
    release();
    expect(String(await first)).toBe("done");
    expect(rig.broker.registrations.find((r) => r.role === Role.PROVIDER)?.capacity).toBe(1);
  });

  it("an ERROR(CANCELLED) from the broker aborts the handler's signal with CANCELLED, and the handler's late answer is not sent", async () => {
    const reasons: unknown[] = [];
    let requestId = "";
    const provider = await rig.provider(
      (_payload, ctx) =>
        new Promise((resolve) => {
          requestId = ctx.requestId;
          ctx.signal.addEventListener("abort", () => {
            reasons.push(ctx.signal.reason);
            resolve("x");
          });
        }),
    );
    const consumer = await rig.consumer();
    const id = consumer.request("x", 300);
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    const [connection] = rig.broker.connections(Role.PROVIDER);
    connection!.sendError(Buffer.from(requestId.replaceAll("-", ""), "hex"), new BrokerError("CANCELLED", "consumer left"));
    await vi.waitFor(() => expect(reasons).toHaveLength(1));
    expect(reasons[0]).toBeInstanceOf(CancelledError);
    expect(provider.inFlight).toBe(0);
    await consumer.expectNothing((frame) => frame.requestId.equals(id), 300);
  });

  it("an ERROR(BAD_ROUTE) from the broker is logged and changes nothing", async () => {
    const warn = vi.fn();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let requestId = "";
    const provider = await rig.provider(
      async (_payload, ctx) => {
        requestId = ctx.requestId;
        await gate;
        return "still answered";
      },
      { logger: { warn, debug: () => {} } },
    );
    const consumer = await rig.consumer();
    const pending = consumer.call("x");
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    const [connection] = rig.broker.connections(Role.PROVIDER);
    connection!.sendError(Buffer.from(requestId.replaceAll("-", ""), "hex"), new BrokerError("BAD_ROUTE", "not yours"));
    await vi.waitFor(() => expect(warn).toHaveBeenCalled());
    expect(warn.mock.calls[0]![0]).toMatchObject({ code: "BAD_ROUTE" });
    expect(provider.inFlight).toBe(1);
    release();
    expect(String(await pending)).toBe("still answered");
  });

  it("a START too short for its request head is answered with an ERROR on its requestId, and the provider carries on", async () => {
    const warn = vi.fn();
    await rig.provider(async (payload) => payload, { logger: { warn, debug: () => {} } });
    const [connection] = rig.broker.connections(Role.PROVIDER);
    const requestId = newId();
    const routing = encodeRoutingHeader(newId(), newId());
    connection!.sendFrame(FrameType.START, FrameFlags.FINAL, requestId, routing, Buffer.from([0, 0]));
    await vi.waitFor(() => expect(rig.broker.frames("provider", FrameType.ERROR).map((f) => f.requestId)).toContain(requestId.toString("hex")));
    expect(warn.mock.calls.map((call) => call[1])).toContain("received a malformed request START");
    const consumer = await rig.consumer();
    expect(String(await consumer.call("still serving"))).toBe("still serving");
  });

  it("when no CANCEL comes, the provider's safety net aborts the handler's signal with TIMEOUT about a second past the deadline", async () => {
    const reasons: unknown[] = [];
    const provider = await rig.provider(answerWhenAborted(reasons, "too late"));
    const consumer = await rig.consumer(); // a raw consumer: it never sends CANCEL, and the fake broker keeps no deadline
    const sentAt = performance.now();
    const id = consumer.request("x", 100);
    await vi.waitFor(() => expect(reasons).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(1100);
    expect(reasons[0]).toMatchObject({ name: "TimeoutError", code: "TIMEOUT" });
    expect(provider.inFlight).toBe(0);
    await consumer.expectNothing((frame) => frame.requestId.equals(id) && frame.type === FrameType.RESPONSE, 300);
  });

  it("a handler that answers something that is not a body gets HANDLER_ERROR", async () => {
    await rig.provider((() => 42) as never);
    const consumer = await rig.consumer();
    await expect(consumer.call("x")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: /number/ });
  });

  it("a handler may answer with a Readable or an async generator", async () => {
    const { Readable } = await import("node:stream");
    await rig.provider(async (payload) => (String(payload) === "readable" ? Readable.from(["a", "b"]) : (async function* () { yield "c"; yield new Uint8Array([100]); })()));
    const consumer = await rig.consumer();
    expect(String(await consumer.call("readable"))).toBe("ab");
    expect(String(await consumer.call("generator"))).toBe("cd");
  });
});
