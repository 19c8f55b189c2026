import { BrokerServer } from "@switchyard/broker-server";
import { Consumer, channelIdFor } from "@switchyard/client-consumer";
import { channelIdFor as providerChannelIdFor, Provider } from "@switchyard/client-provider";
import { newIdString } from "@switchyard/protocol";
import { brokerLeakCheck, closeAfterTest, onCleanup, randomBody, sha256 } from "@switchyard/testing";
import { describe, expect, it, vi } from "vitest";

describe("the clients against the real BrokerServer", () => {
  // Brokers are closed after each test, after the clients opened on them, and fail the test if one still holds a connection.
  async function setup(opts = {}) {
    const server = new BrokerServer({ port: 0, host: "127.0.0.1", ...opts });
    await server.start();
    closeAfterTest(brokerLeakCheck(server));
    const { port } = server.address();
    const address = `127.0.0.1:${port}`;
    const channel = newIdString();
    return { server, address, channel, port };
  }

  it("connect to tcp://host:port (the scheme is not read as the host), and refuse a bad address with INVALID_ARGUMENT naming it", async () => {
    const { port, channel } = await setup();
    const provider = await Provider.connect(`tcp://127.0.0.1:${port}`, channel, async (payload) => `p:${payload}`, { closeTimeout: 500 });
    onCleanup(() => provider.close());
    const consumer = await Consumer.connect(`tcp://127.0.0.1:${port}`, channel, { closeTimeout: 500 });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("x"))).toBe("p:x");
    for (const bad of ["http://127.0.0.1:1", "127.0.0.1", "tcp://127.0.0.1:1/path"]) {
      const refused = (await Consumer.connect(bad, channel).catch((error: unknown) => error)) as Error;
      expect(refused).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(JSON.stringify(bad)) });
      expect(refused.message).toContain('"tls://host:port"');
    }
    await expect(Provider.connect("tcp://localhost", channel, async () => "")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("meet on a channel both sides name with channelIdFor, each from its own package; another name is another channel", async () => {
    const { address } = await setup();
    const provider = await Provider.connect(address, providerChannelIdFor("orders"), async (payload) => `order ${payload}`, { closeTimeout: 500 });
    onCleanup(() => provider.close());
    const consumer = await Consumer.connect(address, channelIdFor("orders"), { closeTimeout: 500 });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("42"))).toBe("order 42");
    const elsewhere = await Consumer.connect(address, channelIdFor("invoices"), { closeTimeout: 500 });
    onCleanup(() => elsewhere.close());
    await expect(elsewhere.send("42")).rejects.toMatchObject({ code: "NO_PROVIDER" });
  });

  it("carry a round trip, a 20 MiB body both ways, 1 000 concurrent requests past the provider's capacity, a handler error and a timeout", async () => {
    const { address, channel } = await setup();
    const provider = await Provider.connect(address, channel, async (payload, ctx) => {
      const text = payload.length < 100 ? String(payload) : "";
      if (text === "throw") throw new Error("boom");
      if (text === "hang") {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return "late";
      }
      if (payload.length >= 100) return Buffer.from(payload).reverse();
      return `processed: ${payload}`;
    }, { closeTimeout: 500 });
    onCleanup(() => provider.close());
    const consumer = await Consumer.connect(address, channel, { closeTimeout: 500 });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("hello"))).toBe("processed: hello");
    const big = randomBody(20 * 1024 * 1024);
    const back = await consumer.send(big, 30_000);
    expect(sha256(back)).toBe(sha256(Buffer.from(big).reverse()));
    const all = await Promise.all(Array.from({ length: 1000 }, (_, i) => consumer.send(`n${i}`, 30_000)));
    expect(all.map(String)).toEqual(Array.from({ length: 1000 }, (_, i) => `processed: n${i}`));
    await expect(consumer.send("throw")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: "boom" });
    const timedOut = await consumer.send("hang", 200).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: "TIMEOUT" });
    await vi.waitFor(() => expect(provider.inFlight).toBe(0));
  });

  it("reconnect and register again after the broker restarts on the same port", async () => {
    const first = await setup();
    const provider = await Provider.connect(first.address, first.channel, (p) => `p:${p}`, { reconnectDelay: 20, maxReconnectDelay: 100 });
    onCleanup(() => provider.close());
    const consumer = await Consumer.connect(first.address, first.channel, { reconnectDelay: 20, maxReconnectDelay: 100 });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("a"))).toBe("p:a");
    await first.server.stop();
    await vi.waitFor(() => expect(consumer.state).toBe("reconnecting"));
    const second = new BrokerServer({ port: first.port, host: "127.0.0.1" });
    await second.start();
    closeAfterTest(brokerLeakCheck(second));
    await vi.waitFor(() => expect(consumer.state).toBe("open"), { timeout: 10_000 });
    await vi.waitFor(() => expect(provider.state).toBe("open"), { timeout: 10_000 });
    await vi.waitFor(async () => expect(String(await consumer.send("b"))).toBe("p:b"), { timeout: 5000 });
  });
});
