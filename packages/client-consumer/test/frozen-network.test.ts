import { Consumer } from "@switchyard/client-consumer";
import { newIdString } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FROZEN_CLIENT_OPTIONS, FROZEN_CLOSE_BOUND_MS, FrozenBroker } from "@switchyard/testing";

// Issue 10, defect 5: once the network went silent, close() waited for the 2-minute read timeout
// (93 s and 120 s measured with closeTimeout: 1000) instead of closeTimeout plus the write timeout.
// (The provider's side of it is in client-provider's frozen-network test.)
describe("close() on a frozen network", () => {
  let broker: FrozenBroker;
  beforeEach(async () => {
    broker = await new FrozenBroker().start();
  });
  afterEach(async () => {
    await broker.stop();
  });

  it("a consumer with a request in flight and an unanswered PING closes within closeTimeout plus writeTimeout, failing the request with CLOSED", async () => {
    const consumer = await Consumer.connect(broker.address, newIdString(), FROZEN_CLIENT_OPTIONS);
    await vi.waitFor(() => expect(broker.frozen).toBe(1));
    const inFlight = consumer.send("never answered", 60_000).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 150)); // a PING or two go unanswered
    const started = performance.now();
    await consumer.close();
    expect(performance.now() - started).toBeLessThan(FROZEN_CLOSE_BOUND_MS);
    expect(consumer.state).toBe("closed");
    expect(await inFlight).toMatchObject({ code: "CLOSED" });
  });
}, 20_000);
