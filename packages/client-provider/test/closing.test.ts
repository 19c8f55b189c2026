import { answerWhenAborted } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProviderRig } from "./fixtures/provider-rig.js";

describe("a provider's close()", () => {
  let rig: ProviderRig;
  beforeEach(async () => {
    rig = await new ProviderRig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("finishes the requests it holds, refuses new ones with SHUTTING_DOWN, then leaves", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const provider = await rig.provider(async (payload) => {
      await gate;
      return `finished ${payload}`;
    });
    const consumer = await rig.consumer();
    const held = consumer.call("held");
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    const closing = provider.close();
    expect(provider.state).toBe("closing");
    await expect(consumer.call("new")).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    release();
    expect(String(await held)).toBe("finished held");
    await closing;
    expect(provider.state).toBe("closed");
    await expect(consumer.call("after")).rejects.toMatchObject({ code: "NO_PROVIDER" });
  });

  it("cancels handlers still running after closeTimeout: their signal aborts with CLOSED", async () => {
    const reasons: unknown[] = [];
    const provider = await rig.provider(answerWhenAborted(reasons, "late"), { closeTimeout: 50 });
    const consumer = await rig.consumer();
    const held = consumer.call("x", 10_000).catch((e: unknown) => e);
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    await provider.close();
    expect(reasons).toEqual([expect.objectContaining({ code: "CLOSED" })]);
    expect(await held).toMatchObject({ code: "PROVIDER_GONE" });
  });
});
