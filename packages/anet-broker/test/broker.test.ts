import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { AnetFrame } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { Broker, createPoolList, tcpFactory } from "../src/index.js";
import { codes, onCleanup, outcomes, rejection, replyAnet, startRawAnetServer } from "@switchyard/testing";
import { startBroker, startServer } from "./helpers.js";

const echo = async (body: Buffer) => body;

describe("Broker", () => {
  it("answers the original example's five concurrent strings, each with its own echo", async () => {
    const address = await startServer(echo);
    const broker = startBroker([address], { cap: 5, workers: 3 });
    const requests = ["hello", "world", "anet test", "concurrent", "request"];
    const responses = await Promise.all(requests.map((text) => broker.send(Buffer.from(text), { timeout: 2000 })));
    expect(responses.map(String)).toEqual(requests);
  });

  it("delivers each of 10 000 concurrent requests to its own caller while the server answers in random order", async () => {
    const address = await startServer(async (body) => {
      await sleep(Math.random() * 5);
      return Buffer.concat([Buffer.from("re:"), body]);
    });
    const broker = startBroker([address], { cap: 5, queueSize: 10_000, timeout: 20_000 });
    const answeredInOrder: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        broker.send(`request ${i}`).then((body) => {
          answeredInOrder.push(i);
          return String(body);
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10_000 }, (_, i) => `re:request ${i}`));
    // The test is only worth something if answers really came back out of order.
    expect(answeredInOrder.some((n, i) => i > 0 && n < answeredInOrder[i - 1]!)).toBe(true);
    expect(broker.stats()).toMatchObject({ answered: 10_000, inFlight: 0, queued: 0, connectionsLost: 0 });
    expect(broker.stats().connections).toBeLessThanOrEqual(5);
  });

  it("carries an empty body and the largest body a 2-byte length allows (65 531 bytes)", async () => {
    const address = await startServer(echo);
    const broker = startBroker([address]);
    expect(await broker.send(Buffer.alloc(0))).toHaveLength(0);
    const largest = Buffer.alloc(65_531, 7);
    expect((await broker.send(largest)).equals(largest)).toBe(true);
  });

  it("refuses a 65 532-byte body with MAX_LEN_EXCEEDED before writing anything", async () => {
    const server = await startRawAnetServer((frame, socket) => replyAnet(socket, frame.taskId, frame.body));
    const broker = startBroker([server.address]);
    await rejection(broker.send(Buffer.alloc(65_532)), "MAX_LEN_EXCEEDED");
    expect(String(await broker.send("after"))).toBe("after");
    // Only the frame of "after" ever reached the server: 2-byte length, 4-byte task id, 5 bytes.
    expect(server.bytesReceived()).toBe(2 + 4 + 5);
  });

  it("carries a 1 MiB body with a 4-byte length prefix", async () => {
    const address = await startServer(echo, { lengthSize: 4 });
    const broker = startBroker([address], { lengthSize: 4 });
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    expect((await broker.send(body)).equals(body)).toBe(true);
  });

  it("fails a request with TIMEOUT whose stack points at the send() call, and discards its late response", async () => {
    const held: Array<{ frame: AnetFrame; socket: Socket }> = [];
    const server = await startRawAnetServer((frame, socket) => {
      if (String(frame.body) === "slow") held.push({ frame: { taskId: frame.taskId, body: Buffer.from(frame.body) }, socket });
      else replyAnet(socket, frame.taskId, frame.body);
    });
    const broker = startBroker([server.address], { stallTimeout: 10_000 });
    async function sendThatTimesOut() {
      const answer = await broker.send("slow", { timeout: 50 });
      return answer;
    }
    const error = await rejection(sendThatTimesOut(), "TIMEOUT");
    expect(error.name).toBe("TimeoutError");
    expect(error.stack).toMatch(/at (async )?sendThatTimesOut/);
    const late = held[0]!;
    replyAnet(late.socket, late.frame.taskId, "too late");
    expect(String(await broker.send("next"))).toBe("next");
    expect(broker.stats()).toMatchObject({ timedOut: 1, lateResponses: 1, connectionsLost: 0, protocolErrors: 0 });
    expect(server.sockets.every((socket) => !socket.destroyed)).toBe(true);
  });

  it("fails an aborted request with ABORTED carrying the signal's reason, and discards its late response", async () => {
    const held: Array<{ taskId: number; socket: Socket }> = [];
    const server = await startRawAnetServer((frame, socket) => {
      if (String(frame.body) === "hold") held.push({ taskId: frame.taskId, socket });
      else replyAnet(socket, frame.taskId, frame.body);
    });
    const broker = startBroker([server.address]);
    const controller = new AbortController();
    const sent = broker.send("hold", { signal: controller.signal });
    await expect.poll(() => held.length).toBe(1);
    controller.abort(new Error("user left"));
    const error = await rejection(sent, "ABORTED");
    expect((error.cause as Error).message).toBe("user left");
    replyAnet(held[0]!.socket, held[0]!.taskId, "late");
    expect(String(await broker.send("next"))).toBe("next");
    expect(broker.stats()).toMatchObject({ aborted: 1, lateResponses: 1, connectionsLost: 0 });
  });

  it("takes a request aborted while queued out of the queue, so it is never sent", async () => {
    const server = await startRawAnetServer(() => {});
    const broker = startBroker([server.address], { cap: 1, maxInflightPerConn: 1 });
    const first = broker.send("first", { timeout: 0 });
    await expect.poll(() => server.bytesReceived()).toBeGreaterThan(0);
    const controller = new AbortController();
    const queued = broker.send("queued", { signal: controller.signal });
    expect(broker.stats().queued).toBe(1);
    controller.abort();
    await rejection(queued, "ABORTED");
    expect(broker.stats().queued).toBe(0);
    void first.catch(() => {});
  });

  it("refuses with QUEUE_FULL at once when every connection slot and the whole queue are taken", async () => {
    const server = await startRawAnetServer(() => {});
    const broker = startBroker([server.address], { cap: 1, maxInflightPerConn: 2, queueSize: 3, timeout: 0 });
    const first = broker.send("1");
    await expect.poll(() => server.bytesReceived()).toBeGreaterThan(0);
    const held = [first, ...["2", "3", "4", "5"].map((body) => broker.send(body))];
    expect(broker.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    const refused = broker.send("6");
    // Settled before any timer could fire: refused, not timed out.
    const verdict = await Promise.race([refused.then(() => "answered", (error: { code: string }) => error.code), sleep(0).then(() => "still pending")]);
    expect(verdict).toBe("QUEUE_FULL");
    expect(broker.stats().queueFull).toBe(1);
    for (const promise of held) void promise.catch(() => {});
  });

  it("close() fails queued requests with CLOSING_BROKER, waits for those in flight, and fails the unanswered ones with QUIT", async () => {
    const held: Array<{ taskId: number; socket: Socket }> = [];
    const server = await startRawAnetServer((frame, socket) => held.push({ taskId: frame.taskId, socket }));
    const broker = new Broker(createPoolList(1, tcpFactory(), [server.address]), { maxInflightPerConn: 2, closeTimeout: 200, timeout: 0 });
    broker.start();
    onCleanup(() => broker.close());
    const inFlight = [broker.send("a"), broker.send("b")];
    await expect.poll(() => held.length).toBe(2);
    const queued = [broker.send("c"), broker.send("d")];
    const settled = outcomes([...inFlight, ...queued]);
    const closing = broker.close();
    await rejection(broker.send("after close"), "CLOSING_BROKER");
    replyAnet(held[0]!.socket, held[0]!.taskId, "answered while closing");
    await closing;
    const results = await settled;
    expect(codes(results)).toEqual([undefined, "QUIT", "CLOSING_BROKER", "CLOSING_BROKER"]);
    expect(String((results[0] as PromiseFulfilledResult<Buffer>).value)).toBe("answered while closing");
    expect(broker.state).toBe("closed");
    await expect.poll(() => held[0]!.socket.destroyed).toBe(true);
  });

  it("close() returns at once when nothing is in flight, and twice is harmless", async () => {
    const address = await startServer(echo);
    const broker = startBroker([address]);
    await broker.send("x");
    await Promise.all([broker.close(), broker.close()]);
    expect(broker.stats()).toMatchObject({ state: "closed", connections: 0 });
  });

  it("await using closes it at the end of its scope, like close()", async () => {
    const address = await startServer(echo);
    let escaped: Broker | null = null;
    {
      await using broker = new Broker(createPoolList(2, tcpFactory(), [address]), {});
      broker.start();
      expect(String(await broker.send("x"))).toBe("x");
      escaped = broker;
    }
    expect(escaped.state).toBe("closed");
    await expect(escaped.send("y")).rejects.toMatchObject({ code: "CLOSING_BROKER" });
  });

  it("with maxInflightPerConn 1 never has two requests on one connection at once", async () => {
    const outstanding = new Map<number, number>();
    let peak = 0;
    const server = await startRawAnetServer((frame, socket, connection) => {
      const now = (outstanding.get(connection) ?? 0) + 1;
      outstanding.set(connection, now);
      peak = Math.max(peak, now);
      setTimeout(
        () => {
          outstanding.set(connection, outstanding.get(connection)! - 1);
          replyAnet(socket, frame.taskId, frame.body);
        },
        Math.random() * 3,
      );
    });
    const broker = startBroker([server.address], { cap: 3, maxInflightPerConn: 1, queueSize: 200 });
    const bodies = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const answers = await Promise.all(bodies.map((body) => broker.send(body)));
    expect(answers.map(String)).toEqual(bodies);
    expect(peak).toBe(1);
    expect(server.sockets.length).toBeGreaterThan(1);
  });

  it("queues requests sent before start() and sends them once started", async () => {
    const address = await startServer(echo);
    const broker = new Broker(createPoolList(2, tcpFactory(), [address]));
    onCleanup(() => broker.close());
    const early = broker.send("early");
    expect(broker.stats()).toMatchObject({ state: "idle", queued: 1 });
    broker.start();
    expect(String(await early)).toBe("early");
  });

  it("refuses bad options at construction, naming the option", () => {
    const pools = createPoolList(1, tcpFactory(), ["127.0.0.1:1"]);
    expect(() => new Broker(pools, { maxInflightPerConn: 0 })).toThrow(/"maxInflightPerConn"/);
    expect(() => new Broker(pools, { lengthSize: 3 as 2 })).toThrow(/"lengthSize"/);
    expect(() => new Broker(pools, { stallTimeout: -1 })).toThrow(/"stallTimeout"/);
  });
});
