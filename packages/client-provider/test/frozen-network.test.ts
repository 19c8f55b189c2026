import { newIdString } from "@switchyard/protocol";
import { FROZEN_CLIENT_OPTIONS, FROZEN_CLOSE_BOUND_MS, FrozenBroker } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Provider } from "../src/index.js";

// Issue 10, defect 5: once the network went silent, close() waited for the 2-minute read timeout
// (93 s and 120 s measured with closeTimeout: 1000) instead of closeTimeout plus the write timeout.
// (The consumer's side of it is in client-consumer's frozen-network test.)
describe("close() on a frozen network", () => {
  let broker: FrozenBroker;
  beforeEach(async () => {
    broker = await new FrozenBroker().start();
  });
  afterEach(async () => {
    await broker.stop();
  });

  it("a provider whose handler ignores close() closes within closeTimeout plus writeTimeout, aborting the handler with CLOSED", async () => {
    const reasons: unknown[] = [];
    const provider = await Provider.connect(
      broker.address,
      newIdString(),
      (_payload, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            reasons.push(ctx.signal.reason);
            resolve("late");
          });
        }),
      FROZEN_CLIENT_OPTIONS,
    );
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = performance.now();
    await provider.close();
    expect(performance.now() - started).toBeLessThan(FROZEN_CLOSE_BOUND_MS);
    expect(provider.state).toBe("closed");
    expect(reasons).toMatchObject([{ code: "CLOSED" }]);
  });
}, 20_000);
