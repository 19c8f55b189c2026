import { FrameType, newId } from "@switchyard/protocol";
import { brokerLeakCheck, closeAfterTest, RawClient, type RegisterOptions } from "@switchyard/testing";
import { expect } from "vitest";
import { BrokerServer, type BrokerServerOptions } from "../src/index.js";

/**
 * Brokers and raw clients for one test file. After each test the raw clients are destroyed, then
 * every broker is stopped, and a broker that still counts a connection 3 s later fails the test
 * (it missed a client's close, or the test opened a socket it did not close).
 */
export interface BrokerHarness {
  /** Starts a broker on 127.0.0.1, port 0. */
  start(options?: BrokerServerOptions): Promise<BrokerServer>;
  /** A connected, unregistered client. */
  client(server: BrokerServer): Promise<RawClient>;
  consumer(server: BrokerServer, channelId: Buffer, options?: Partial<RegisterOptions>): Promise<RawClient>;
  provider(server: BrokerServer, channelId: Buffer, options?: Partial<RegisterOptions>): Promise<RawClient>;
  /** A started broker with one provider and then one consumer registered on a fresh channel. */
  pair(options?: BrokerServerOptions, providerOptions?: Partial<RegisterOptions>): Promise<Pair>;
  /** Proves the broker still serves others: a round trip on a fresh channel with fresh clients. */
  expectHealthy(server: BrokerServer): Promise<void>;
}

/** What `pair()` sets up. */
export interface Pair {
  server: BrokerServer;
  channelId: Buffer;
  provider: RawClient;
  consumer: RawClient;
}

export function useBrokerHarness(): BrokerHarness {
  const harness: BrokerHarness = {
    async start(options = {}) {
      const server = new BrokerServer({ host: "127.0.0.1", port: 0, ...options });
      await server.start();
      closeAfterTest(brokerLeakCheck(server));
      return server;
    },
    client(server) {
      return RawClient.open(server.address().port);
    },
    async consumer(server, channelId, options = {}) {
      return (await harness.client(server)).register({ role: "consumer", channelId, ...options });
    },
    async provider(server, channelId, options = {}) {
      return (await harness.client(server)).register({ role: "provider", channelId, ...options });
    },
    async pair(options = {}, providerOptions = {}) {
      const server = await harness.start(options);
      const channelId = newId();
      const provider = await harness.provider(server, channelId, providerOptions);
      const consumer = await harness.consumer(server, channelId);
      return { server, channelId, provider, consumer };
    },
    async expectHealthy(server) {
      const channelId = newId();
      const provider = await harness.provider(server, channelId);
      const consumer = await harness.consumer(server, channelId);
      const id = consumer.request("still alive?");
      const start = await provider.nextOf(FrameType.START);
      provider.respond(start, "yes");
      const response = await consumer.nextOf(FrameType.RESPONSE, id);
      expect(response.payload.toString()).toBe("yes");
      consumer.destroy();
      provider.destroy();
    },
  };
  return harness;
}
