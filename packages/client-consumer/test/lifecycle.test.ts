import { FrameType } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWhenAborted, Rig } from "./fixtures/clients.js";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("closing", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("a consumer's close() lets requests in flight finish, refuses new ones with CLOSED, and is idempotent", async () => {
    await rig.provider(async (payload) => {
      await delay(100);
      return `done ${payload}`;
    });
    const consumer = await rig.consumer();
    const inFlight = consumer.send("a");
    const closing = consumer.close();
    expect(consumer.state).toBe("closing");
    await expect(consumer.send("b")).rejects.toMatchObject({ code: "CLOSED" });
    expect(String(await inFlight)).toBe("done a");
    await Promise.all([closing, consumer.close()]);
    expect(consumer.state).toBe("closed");
    await expect(consumer.send("c")).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("a consumer's close() fails what is still in flight after closeTimeout with CLOSED and cancels it", async () => {
    await rig.provider(() => new Promise(() => {}));
    const consumer = await rig.consumer({ closeTimeout: 50 });
    const inFlight = consumer.send("never answered", 10_000).catch((e: unknown) => e);
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.START)).toHaveLength(1));
    await consumer.close();
    expect(await inFlight).toMatchObject({ code: "CLOSED" });
    await vi.waitFor(() => expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(1));
  });

  it("a provider's close() finishes the requests it holds, refuses new ones with SHUTTING_DOWN, then leaves", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const provider = await rig.provider(async (payload) => {
      await gate;
      return `finished ${payload}`;
    });
    const consumer = await rig.consumer();
    const held = consumer.send("held");
    await vi.waitFor(() => expect(provider.inflight).toBe(1));
    const closing = provider.close();
    expect(provider.state).toBe("closing");
    await expect(consumer.send("new")).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    release();
    expect(String(await held)).toBe("finished held");
    await closing;
    expect(provider.state).toBe("closed");
    await expect(consumer.send("after")).rejects.toMatchObject({ code: "NO_PROVIDER" });
  });

  it("a provider's close() cancels handlers still running after closeTimeout: their signal aborts with CLOSED", async () => {
    const reasons: unknown[] = [];
    const provider = await rig.provider(answerWhenAborted(reasons, "late"), { closeTimeout: 50 });
    const consumer = await rig.consumer();
    const held = consumer.send("x", 10_000).catch((e: unknown) => e);
    await vi.waitFor(() => expect(provider.inflight).toBe(1));
    await provider.close();
    expect(reasons).toEqual([expect.objectContaining({ code: "CLOSED" })]);
    expect(await held).toMatchObject({ code: "PROVIDER_GONE" });
  });

  it("await using closes a client at the end of its scope", async () => {
    let escaped: { state: string } | null = null;
    {
      await using consumer = await rig.consumer();
      expect(consumer.state).toBe("open");
      escaped = consumer;
    }
    expect(escaped.state).toBe("closed");
  });
});

describe("provider.requests()", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("yields each request for the application to answer with respond() or fail()", async () => {
    const provider = await rig.handlerlessProvider();
    const consumer = await rig.consumer();
    const serving = (async () => {
      for await (const req of provider.requests()) {
        if (String(req.payload) === "bad") await req.fail(new Error("refused by app"));
        else await req.respond(`got ${req.payload} from ${req.clientId}`);
      }
    })();
    expect(String(await consumer.send("one"))).toBe(`got one from ${consumer.clientId}`);
    await expect(consumer.send("bad")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: "refused by app" });
    await provider.close();
    await serving; // the loop ends when the provider closes
  });

  it("leaving the loop stops serving: later requests are answered SHUTTING_DOWN", async () => {
    const provider = await rig.handlerlessProvider();
    const consumer = await rig.consumer();
    const first = consumer.send("first");
    for await (const req of provider.requests()) {
      await req.respond("only one");
      break;
    }
    expect(String(await first)).toBe("only one");
    await expect(consumer.send("second")).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
  });

  it("is refused on a provider that has a handler", async () => {
    const provider = await rig.provider(() => "");
    expect(() => provider.requests()).toThrow(/without a handler/);
  });
});
