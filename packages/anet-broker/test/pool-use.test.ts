import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { closeAfterTest, onCleanup, refusingAddress, rejection, replyAnet, startRawAnetServer, TrackedServer } from "@switchyard/testing";
import { type AnetConnectionEvent, Broker, createPoolList, type PoolListOptions, tcpFactory } from "../src/index.js";
import { startServer } from "./helpers.js";

/** An echo anet server that records every connection it accepts, and when each closes. */
async function startCountingServer(
  handler: (body: Buffer) => Promise<Buffer> | Buffer = (body) => body,
): Promise<{ address: string; sockets: readonly Socket[]; closed: Set<Socket> }> {
  const [host, port] = (await startServer(handler)).split(":") as [string, string];
  // A TCP proxy in front of it, so the test sees the broker's connections open and close (and a
  // connection the broker leaves open fails the test).
  const closed = new Set<Socket>();
  const proxy = await TrackedServer.listen(
    (client) => {
      client.on("close", () => closed.add(client));
      const upstream = connect(Number(port), host);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    },
    { name: "counting proxy" },
  );
  closeAfterTest(proxy);
  return { address: proxy.address, sockets: proxy.accepted, closed };
}

function startBrokerOver(address: string, pool: PoolListOptions, cap = 1): { broker: Broker; events: AnetConnectionEvent[] } {
  const broker = new Broker(createPoolList(cap, tcpFactory(), [address], { dialTimeout: 2000, ...pool }), { closeTimeout: 200 });
  const events: AnetConnectionEvent[] = [];
  void (async () => {
    for await (const event of broker.events()) events.push(event);
  })();
  broker.start();
  onCleanup(() => broker.close());
  return { broker, events };
}

/** Lets the broker finish its tick, so a connection with nothing in flight goes back to its pool. */
async function untilIdle(broker: Broker, idle = 1): Promise<void> {
  await expect.poll(() => broker.stats().idleConnections, { timeout: 5000 }).toBe(idle);
}

describe("the anet Broker takes its connections from the pools and puts them back", () => {
  it("puts a connection with nothing in flight back in its pool and takes it out again for the next request, without dialling", async () => {
    const server = await startCountingServer();
    const { broker, events } = startBrokerOver(server.address, {});
    expect(String(await broker.send("one"))).toBe("one");
    await untilIdle(broker);
    expect(broker.stats()).toMatchObject({ connections: 1, idleConnections: 1 });
    expect(String(await broker.send("two"))).toBe("two");
    expect(server.sockets).toHaveLength(1);
    // The same connection, under the same number: it was taken out of the pool, not dialled.
    expect(events.filter((event) => event.type === "connected")).toHaveLength(1);
  });

  it("closes a connection left idle for the pool's idleTimeout while the broker runs, and dials a new one when it is needed", async () => {
    const server = await startCountingServer();
    const { broker } = startBrokerOver(server.address, { idleTimeout: 100 });
    expect(String(await broker.send("before"))).toBe("before");
    await expect.poll(() => server.closed.has(server.sockets[0]!), { timeout: 5000 }).toBe(true);
    expect(broker.stats()).toMatchObject({ connections: 0, idleConnections: 0, connectionsLost: 0 });
    expect(String(await broker.send("after"))).toBe("after");
    expect(server.sockets).toHaveLength(2);
  });

  it("never closes a connection as idle while a request is in flight on it, however long the server takes", async () => {
    const server = await startCountingServer(async (body) => {
      await sleep(300);
      return body;
    });
    const { broker } = startBrokerOver(server.address, { idleTimeout: 20 });
    expect(String(await broker.send("slow"))).toBe("slow");
    expect(server.closed.size).toBe(0);
    expect(broker.stats().connectionsLost).toBe(0);
  });

  it("validates an idle connection before it carries requests again, and replaces one that fails validation", async () => {
    const server = await startCountingServer();
    let healthy = true;
    const validated: Socket[] = [];
    const { broker } = startBrokerOver(server.address, {
      validate: (socket) => {
        validated.push(socket);
        return healthy;
      },
    });
    expect(String(await broker.send("first"))).toBe("first");
    await untilIdle(broker);
    expect(validated).toHaveLength(0); // a fresh dial is not validated
    healthy = false;
    expect(String(await broker.send("second"))).toBe("second");
    expect(validated).toHaveLength(1);
    expect(validated[0]!.destroyed).toBe(true);
    expect(server.sockets).toHaveLength(2);
    await expect.poll(() => server.closed.has(server.sockets[0]!), { timeout: 5000 }).toBe(true);
    expect(broker.stats()).toMatchObject({ connections: 1, connectionsLost: 0 });
  });

  it("does not reuse an idle connection its server wrote to unasked: the bytes close it, and the next request goes out on a fresh one", async () => {
    const server = await startRawAnetServer((frame, socket) => {
      replyAnet(socket, frame.taskId, frame.body);
      // A frame nobody asked for, once the broker has put the connection back in its pool.
      if (String(frame.body) === "first") setTimeout(() => replyAnet(socket, frame.taskId, "stray"), 100);
    });
    const { broker } = startBrokerOver(server.address, {});
    expect(String(await broker.send("first"))).toBe("first");
    await untilIdle(broker);
    const firstSocket = server.sockets[0]!;
    await expect.poll(() => firstSocket.destroyed || firstSocket.readableEnded, { timeout: 5000 }).toBe(true);
    expect(String(await broker.send("second"))).toBe("second");
    expect(server.sockets).toHaveLength(2);
    expect(broker.stats()).toMatchObject({ connections: 1, lateResponses: 0, protocolErrors: 0 });
  });

  it("backs off from a failed address in its pool alone: the broker's failed dial keeps the pool's own get() from dialling too", async () => {
    const address = await refusingAddress();
    let dials = 0;
    const factory = tcpFactory();
    const pools = createPoolList(
      1,
      (target, signal) => {
        dials++;
        return factory(target, signal);
      },
      [address],
      { reconnectDelay: 10_000, maxReconnectDelay: 10_000 },
    );
    const broker = new Broker(pools, { closeTimeout: 200 });
    const events: AnetConnectionEvent[] = [];
    void (async () => {
      for await (const event of broker.events()) events.push(event);
    })();
    broker.start();
    onCleanup(() => broker.close());
    await rejection(broker.send("x"), "NO_POOLS_AVAILABLE");
    expect(dials).toBe(1);
    const pool = pools[0]!;
    // Equal jitter: the first backoff is within [reconnectDelay / 2, reconnectDelay].
    expect(pool.backoff).toBeGreaterThanOrEqual(4000);
    expect(pool.lastDialError).toMatchObject({ code: "CONNECT_FAILED" });
    await expect.poll(() => events.find((event) => event.type === "dial-failed")).toMatchObject({ backoffMs: expect.any(Number) });
    const reported = events.find((event) => event.type === "dial-failed") as { backoffMs: number };
    expect(reported.backoffMs).toBeGreaterThanOrEqual(pool.backoff);
    await rejection(pool.get({ timeout: 50 }), "TIMEOUT");
    await rejection(broker.send("y"), "NO_POOLS_AVAILABLE");
    expect(dials).toBe(1);
  });
});
