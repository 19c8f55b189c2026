import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clientIdOf, ProviderRig } from "./fixtures/provider-rig.js";

describe("provider.requests()", () => {
  let rig: ProviderRig;
  beforeEach(async () => {
    rig = await new ProviderRig().start();
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
    expect(String(await consumer.call("one"))).toBe(`got one from ${clientIdOf(consumer)}`);
    await expect(consumer.call("bad")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: "refused by app" });
    await provider.close();
    await serving; // the loop ends when the provider closes
  });

  it("leaving the loop stops serving: later requests are answered SHUTTING_DOWN", async () => {
    const provider = await rig.handlerlessProvider();
    const consumer = await rig.consumer();
    const first = consumer.call("first");
    for await (const req of provider.requests()) {
      await req.respond("only one");
      break;
    }
    expect(String(await first)).toBe("only one");
    await expect(consumer.call("second")).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
  });

  it("is refused on a provider that has a handler", async () => {
    const provider = await rig.provider(() => "");
    expect(() => provider.requests()).toThrow(/without a handler/);
  });

  it("a provider that gives up reconnecting ends its requests() loop, as close() would", async () => {
    const provider = await rig.handlerlessProvider({ maxReconnectAttempts: 2, reconnectDelay: 1, maxReconnectDelay: 5 });
    const served = (async () => {
      for await (const req of provider.requests()) await req.respond("unused");
      return "loop ended";
    })();
    await rig.broker.crash();
    await vi.waitFor(() => expect(provider.state).toBe("closed"), { timeout: 10_000 });
    await expect(served).resolves.toBe("loop ended");
    await provider.close(); // nothing left to do, and no hang
  });
});
