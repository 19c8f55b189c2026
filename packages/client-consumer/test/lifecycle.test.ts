import { FrameType } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Rig } from "./fixtures/clients.js";

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
