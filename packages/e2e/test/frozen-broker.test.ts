import { describe, expect, it, vi } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

const CLOSE_TIMEOUT = 300;
const WRITE_TIMEOUT = 300;
/** Slack for a loaded machine; the bug waited for the 2-minute read timeout. */
const SLACK = 3000;

// Issue 10, defect 5: close() waited for the read timeout once the broker went silent.
describe("a broker process frozen with SIGSTOP", () => {
  const e2e = useE2E();

  it("lets a consumer and a provider with work in flight close within closeTimeout plus writeTimeout", async () => {
    const broker = await e2e.cliBroker();
    const id = channel();
    const options = { closeTimeout: CLOSE_TIMEOUT, writeTimeout: WRITE_TIMEOUT };
    const aborted: unknown[] = [];
    const provider = await e2e.provider(
      broker.address,
      id,
      (_payload, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted.push(ctx.signal.reason);
            resolve("too late");
          });
        }),
      options,
    );
    const consumer = await e2e.consumer(broker.address, id, options);
    const inFlight = consumer.send("held", 60_000).catch((error: unknown) => error);
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    process.kill(broker.pid, "SIGSTOP"); // the harness SIGKILLs it after the test
    const started = performance.now();
    await Promise.all([consumer.close(), provider.close()]);
    expect(performance.now() - started).toBeLessThan(CLOSE_TIMEOUT + WRITE_TIMEOUT + SLACK);
    expect(await inFlight).toMatchObject({ code: "CLOSED" });
    expect(aborted).toMatchObject([{ code: "CLOSED" }]);
  });
});
