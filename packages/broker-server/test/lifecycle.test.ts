import { decodeErrorBody, FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { BrokerServer } from "../src/index.js";
import { useBrokerHarness } from "./harness.js";
import { RawClient } from "@switchyard/testing";

const h = useBrokerHarness();

describe("start and address", () => {
  it("resolves start() once listening and reports the real port of port 0", async () => {
    const server = await h.start();
    const { host, port } = server.address();
    expect(host).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    const client = await RawClient.connect(port);
    client.destroy();
    expect(server.state).toBe("listening");
  });

  it("rejects start() with LISTEN_FAILED when the port is taken, keeping Node's error as cause", async () => {
    const first = await h.start();
    const second = new BrokerServer({ port: first.address().port });
    const error = await second.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "LISTEN_FAILED", cause: expect.objectContaining({ code: "EADDRINUSE" }) });
    await second.stop();
  });

  it("throws NOT_LISTENING from address() before start, and SERVER_CLOSED from start() after stop", async () => {
    const server = new BrokerServer({ port: 0 });
    expect(() => server.address()).toThrow(expect.objectContaining({ code: "NOT_LISTENING" }));
    await server.stop();
    await expect(server.start()).rejects.toMatchObject({ code: "SERVER_CLOSED" });
  });

  it("rejects start() with the signal's reason when aborted before listening", async () => {
    const server = new BrokerServer({ port: 0 });
    const reason = new Error("changed my mind");
    await expect(server.start({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.state).toBe("new");
    await server.start();
    expect(server.address().port).toBeGreaterThan(0);
    await server.stop();
  });

  it("throws INVALID_ARGUMENT naming the option for a bad limit", () => {
    expect(() => new BrokerServer({ maxQueuedRequests: -1 })).toThrow(/maxQueuedRequests/);
    expect(() => new BrokerServer({ requestTimeout: 1.5 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new BrokerServer({ maxPayloadBytes: 2 * 1024 * 1024 })).toThrow(/maxPayloadBytes/);
    expect(() => new BrokerServer({ serverId: "not-a-uuid" })).toThrow(/serverId/);
  });
});

describe("stop", () => {
  it("drains: new requests get SHUTTING_DOWN while an in-flight request still gets its response, then sockets close", async () => {
    const server = await h.start();
    const { port } = server.address();
    const channelId = newId();
    const provider = await h.provider(server, channelId);
    const consumer = await h.consumer(server, channelId);
    const inFlight = consumer.request("finish me", 5000);
    const start = await provider.nextOf(FrameType.START);
    const stopped = server.stop();
    expect(server.state).toBe("stopping");
    const late = consumer.request("too late");
    expect((await consumer.nextError(late)).code).toBe("SHUTTING_DOWN");
    provider.respond(start, "finished");
    expect((await consumer.nextOf(FrameType.RESPONSE, inFlight)).payload.toString()).toBe("finished");
    await stopped;
    expect(server.state).toBe("stopped");
    await consumer.waitClosed();
    await provider.waitClosed();
    expect(server.stats().connections).toBe(0);
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("fails what is still in flight with SHUTTING_DOWN at the drain timeout and cancels it at the provider", async () => {
    const { server, provider, consumer } = await h.pair();
    const id = consumer.request("never answered", 30_000);
    const start = await provider.nextOf(FrameType.START);
    const stopping = server.stop({ timeout: 100 });
    expect((await consumer.nextError(id)).code).toBe("SHUTTING_DOWN");
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await stopping;
    await consumer.waitClosed();
  });

  it("is idempotent: every stop() returns the same promise", async () => {
    const server = await h.start();
    const a = server.stop();
    const b = server.stop();
    expect(a).toBe(b);
    await a;
    await server.stop();
  });

  it("await using stops it at the end of its scope: its clients are closed and its port refuses connections", async () => {
    let escaped: BrokerServer | null = null;
    let port = 0;
    let client: RawClient | null = null;
    {
      await using server = new BrokerServer({ port: 0, host: "127.0.0.1" });
      await server.start();
      port = server.address().port;
      client = await RawClient.connect(port);
      await client.register({ role: "consumer", channelId: newId() });
      escaped = server;
    }
    expect(escaped.state).toBe("stopped");
    await client.waitClosed();
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("refuses registrations while draining with SHUTTING_DOWN", async () => {
    const { server, channelId, provider, consumer } = await h.pair();
    consumer.request("keeps the drain going", 5000);
    const start = await provider.nextOf(FrameType.START);
    const early = await h.client(server); // connected before stop, registers after
    const stopped = server.stop();
    const answer = await early.registerRaw({ role: "consumer", channelId });
    expect(answer.type).toBe(FrameType.ERROR);
    expect(decodeErrorBody(answer.payload).code).toBe("SHUTTING_DOWN");
    provider.respond(start, "bye");
    await stopped;
  });
});
