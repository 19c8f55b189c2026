import { setTimeout as sleep } from "node:timers/promises";
import { BrokerServer } from "@switchyard/broker-server";
import { FrameType, idToBytes, newIdString } from "@switchyard/protocol";
import { brokerLeakCheck, closeAfterTest, onCleanup, outcomes, RawClient } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { type Handler, Provider, type ProviderOptions } from "../src/index.js";

const CONCURRENCY = 4;

/** A real broker (closed after the test, failing it on a leaked connection), one provider, and a raw consumer. */
async function setUp(handler: Handler, options: ProviderOptions): Promise<{ provider: Provider; consumer: RawClient }> {
  const server = new BrokerServer({ host: "127.0.0.1", port: 0 });
  await server.start();
  closeAfterTest(brokerLeakCheck(server));
  const { port } = server.address();
  const channelId = newIdString();
  const provider = await Provider.connect(`127.0.0.1:${port}`, channelId, handler, { closeTimeout: 500, reconnectDelay: 20, maxReconnectDelay: 200, ...options });
  onCleanup(() => provider.close());
  const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId: idToBytes(channelId) });
  return { provider, consumer };
}

// Issue 10, defect 7: the broker frees a slot when it sends CANCEL and the provider dropped the
// request at once, so a handler ignoring ctx.signal kept running beside the new requests routed
// into its slot: a provider of concurrency 4 ran far more than 4 handlers. (Moved from e2e: the
// consumer is a raw client, so these run in client-provider's own tests.)
describe("a provider's declared concurrency bounds its running handlers", () => {
  it("handlers that ignore their signal, under many timeouts and cancels, never run more than `concurrency` at once, and every timed-out request gets one TIMEOUT", async () => {
    let running = 0;
    let most = 0;
    let handled = 0;
    const { provider, consumer } = await setUp(
      async (payload) => {
        running++;
        handled++;
        most = Math.max(most, running);
        await sleep(String(payload) === "quick" ? 0 : 150); // deaf to ctx.signal
        running--;
        return `done ${payload}`;
      },
      { concurrency: CONCURRENCY },
    );
    const timedOut: Array<Promise<Buffer>> = [];
    const cancels: Array<Promise<void>> = [];
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) {
        // the consumer gives up: a CANCEL after 20–80 ms (what Consumer.send does when its signal aborts)
        const id = consumer.request(`abort ${i}`, 30_000);
        cancels.push(sleep(20 + (i % 7) * 10).then(() => consumer.send(FrameType.CANCEL, 0, id)));
      } else {
        timedOut.push(consumer.response(consumer.request(`timeout ${i}`, 20 + (i % 5) * 15), 10_000));
      }
    }
    const settled = outcomes(timedOut); // caught from now on: they reject while the cancels go out
    await Promise.all(cancels);
    const results = await settled;
    // Each of the 40 requests with a deadline settled once: answered in time, or TIMEOUT.
    for (const result of results) {
      if (result.status === "rejected") expect(result.reason).toMatchObject({ code: "TIMEOUT" });
    }
    // No slot is lost: once the deaf handlers are done, the provider serves at full width again.
    const quick = Array.from({ length: CONCURRENCY * 2 }, () => consumer.request("quick", 30_000));
    const after = await Promise.all(quick.map((id) => consumer.response(id, 30_000)));
    expect(after.map(String)).toEqual(Array(CONCURRENCY * 2).fill("done quick"));
    expect(handled).toBeGreaterThan(CONCURRENCY);
    expect(most).toBeLessThanOrEqual(CONCURRENCY);
    await sleep(200);
    expect(running).toBe(0);
    expect(provider.inFlight).toBe(0);
  });

  it("a request that waits for a slot held by a deaf handler and is cancelled meanwhile never reaches the handler", async () => {
    const seen: string[] = [];
    const { consumer } = await setUp(
      async (payload) => {
        seen.push(String(payload));
        if (String(payload) === "deaf") await sleep(600);
        return `done ${payload}`;
      },
      { concurrency: 1 },
    );
    await expect(consumer.call("deaf", 50)).rejects.toMatchObject({ code: "TIMEOUT" });
    // The broker freed the slot with its CANCEL and routes this one, which waits and times out too.
    await expect(consumer.call("waits", 100)).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(String(await consumer.call("later", 30_000, 30_000))).toBe("done later");
    expect(seen).toEqual(["deaf", "later"]);
  });
});
