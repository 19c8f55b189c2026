import { CancelledError, type RequestContext } from "@switchyard/client-provider";
import { BrokerError, encodeRoutingHeader, FrameFlags, FrameType, newId, Role } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWhenAborted, Rig } from "./fixtures/clients.js";

describe("provider behaviour", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("gives the handler the request's ids and the time left before its deadline", async () => {
    const seen: Array<Omit<RequestContext, "signal">> = [];
    await rig.provider((_payload, ctx) => {
      seen.push({ requestId: ctx.requestId, clientId: ctx.clientId, channelId: ctx.channelId, timeoutMs: ctx.timeoutMs });
      return "";
    });
    const consumer = await rig.consumer();
    await consumer.send("x", 3000);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.clientId).toBe(consumer.clientId);
    expect(seen[0]!.channelId).toBe(rig.channelId);
    expect(seen[0]!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(seen[0]!.timeoutMs).toBeGreaterThan(0);
    expect(seen[0]!.timeoutMs).toBeLessThanOrEqual(3000);
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
    const first = consumer.send("1");
    await expect(consumer.send("2")).rejects.toMatchObject({ code: "OVERLOADED" });
    release();
    expect(String(await first)).toBe("done");
    expect(rig.broker.registrations.find((r) => r.role === Role.PROVIDER)?.capacity).toBe(1);
  });

  it("an ERROR(CANCELLED) from the broker aborts the handler's signal with CANCELLED", async () => {
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
    const pending = consumer.send("x", 300).catch(() => {});
    await vi.waitFor(() => expect(provider.inflight).toBe(1));
    const [connection] = rig.broker.connections(Role.PROVIDER);
    connection!.sendError(Buffer.from(requestId.replaceAll("-", ""), "hex"), new BrokerError("CANCELLED", "consumer left"));
    await vi.waitFor(() => expect(reasons).toHaveLength(1));
    expect(reasons[0]).toBeInstanceOf(CancelledError);
    expect(provider.inflight).toBe(0);
    await pending;
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
    const pending = consumer.send("x");
    await vi.waitFor(() => expect(provider.inflight).toBe(1));
    const [connection] = rig.broker.connections(Role.PROVIDER);
    connection!.sendError(Buffer.from(requestId.replaceAll("-", ""), "hex"), new BrokerError("BAD_ROUTE", "not yours"));
    await vi.waitFor(() => expect(warn).toHaveBeenCalled());
    expect(warn.mock.calls[0]![0]).toMatchObject({ code: "BAD_ROUTE" });
    expect(provider.inflight).toBe(1);
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
    expect(String(await consumer.send("still serving"))).toBe("still serving");
  });

  it("when no CANCEL comes, the provider's safety net aborts the handler's signal with TIMEOUT about a second past the deadline", async () => {
    const reasons: unknown[] = [];
    const provider = await rig.provider(answerWhenAborted(reasons, "too late"));
    rig.broker.interceptConsumer = (frame) => frame.type === FrameType.CANCEL; // the CANCEL is lost
    const consumer = await rig.consumer();
    const sentAt = performance.now();
    await expect(consumer.send("x", 100)).rejects.toMatchObject({ code: "TIMEOUT" });
    await vi.waitFor(() => expect(reasons).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(1100);
    expect(reasons[0]).toMatchObject({ name: "TimeoutError", code: "TIMEOUT" });
    expect(provider.inflight).toBe(0);
  });

  it("a handler that answers something that is not a body gets HANDLER_ERROR", async () => {
    await rig.provider((() => 42) as never);
    const consumer = await rig.consumer();
    await expect(consumer.send("x")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: /number/ });
  });

  it("a handler may answer with a Readable or an async generator", async () => {
    const { Readable } = await import("node:stream");
    await rig.provider(async (payload) => (String(payload) === "readable" ? Readable.from(["a", "b"]) : (async function* () { yield "c"; yield new Uint8Array([100]); })()));
    const consumer = await rig.consumer();
    expect(String(await consumer.send("readable"))).toBe("ab");
    expect(String(await consumer.send("generator"))).toBe("cd");
  });
});
