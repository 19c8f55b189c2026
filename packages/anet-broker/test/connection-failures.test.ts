import type { Socket } from "node:net";
import type { AnetFrame } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { codes, outcomes, rejection, replyAnet, startRawAnetServer } from "@switchyard/testing";
import { startBroker } from "./helpers.js";

/** A raw server whose first connection misbehaves through `hostile`, and whose later ones echo. */
async function hostileThenEcho(hostile: (frame: AnetFrame, socket: Socket) => void) {
  return startRawAnetServer((frame, socket, connection) => {
    if (connection === 0) hostile(frame, socket);
    else replyAnet(socket, frame.taskId, frame.body);
  });
}

describe("Broker on a failing connection", () => {
  it("fails all 100 requests in flight at once with CONNECTION_LOST when the server closes, then serves on a fresh connection", async () => {
    let seen = 0;
    const server = await hostileThenEcho((_frame, socket) => {
      if (++seen === 100) socket.destroy();
    });
    const broker = startBroker([server.address], { cap: 1, timeout: 60_000 });
    const started = performance.now();
    const results = await outcomes(Array.from({ length: 100 }, (_, i) => broker.send(`r${i}`)));
    // Far below the 60 s timeout: they failed because the connection did, not by waiting.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(new Set(codes(results))).toEqual(new Set(["CONNECTION_LOST"]));
    const first = (results[0] as PromiseRejectedResult).reason as Error;
    expect(first.name).toBe("ConnectionLostError");
    expect(first.message).toContain("closed the connection");
    const next = await Promise.all(Array.from({ length: 10 }, (_, i) => broker.send(`n${i}`)));
    expect(next.map(String)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`));
    expect(server.sockets).toHaveLength(2);
    expect(broker.stats()).toMatchObject({ connectionsLost: 1, connections: 1 });
  });

  it("replaces a connection whose server answers with a length of 3, failing its request with the cause INVALID_MSG_LENGTH", async () => {
    const server = await hostileThenEcho((_frame, socket) => socket.write(Buffer.from([0x00, 0x03, 1, 2, 3])));
    const warnings: string[] = [];
    const broker = startBroker([server.address], { logger: { warn: (_fields, line) => warnings.push(line ?? ""), debug: () => {} } });
    const error = await rejection(broker.send("x"), "CONNECTION_LOST");
    expect(error.cause).toMatchObject({ code: "INVALID_MSG_LENGTH" });
    expect(String(await broker.send("again"))).toBe("again");
    expect(broker.stats()).toMatchObject({ protocolErrors: 1, connectionsLost: 1 });
    expect(warnings.join("\n")).toMatch(/anet length 3/);
  });

  it("replaces a connection whose server answers a task id it was not asked, and keeps serving", async () => {
    const server = await hostileThenEcho((frame, socket) => replyAnet(socket, (frame.taskId + 1000) >>> 0, "not yours"));
    const broker = startBroker([server.address]);
    const error = await rejection(broker.send("x"), "CONNECTION_LOST");
    expect(error.message).toMatch(/task id \d+, which is not in flight/);
    expect(String(await broker.send("again"))).toBe("again");
    expect(broker.stats().protocolErrors).toBe(1);
  });

  it("recovers from garbage that announces a frame that never completes: TIMEOUT, then the stuck connection is replaced", async () => {
    const server = await hostileThenEcho((_frame, socket) => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const broker = startBroker([server.address], { cap: 1, timeout: 100, stallTimeout: 300 });
    await rejection(broker.send("x"), "TIMEOUT");
    await expect.poll(() => broker.stats().connectionsLost).toBe(1);
    expect(String(await broker.send("again"))).toBe("again");
  });

  it("survives a response longer than announced: the answer arrives, the overrun is contained, the broker keeps serving", async () => {
    const server = await hostileThenEcho((frame, socket) => {
      if (String(frame.body) !== "first") return replyAnet(socket, frame.taskId, frame.body);
      // Announces 4 + 2 bytes, then sends more than that.
      const head = Buffer.alloc(6);
      head.writeUInt16BE(6, 0);
      head.writeUInt32BE(frame.taskId, 2);
      socket.write(Buffer.concat([head, Buffer.from("okEXTRA BYTES THAT DO NOT BELONG")]));
    });
    const broker = startBroker([server.address], { cap: 1, timeout: 150, stallTimeout: 300 });
    expect(String(await broker.send("first"))).toBe("ok");
    // The overrun reads as the start of a frame that never completes: the next answer is lost in it.
    await rejection(broker.send("second"), "TIMEOUT");
    await expect.poll(() => broker.stats().connectionsLost).toBe(1);
    expect(String(await broker.send("third"))).toBe("third");
  });

  it("replaces a connection whose server goes silent with requests in flight, even without request timeouts", async () => {
    const server = await hostileThenEcho(() => {});
    const broker = startBroker([server.address], { timeout: 0, stallTimeout: 100 });
    const error = await rejection(broker.send("x"), "CONNECTION_LOST");
    expect(error.message).toMatch(/nothing received for 100 ms/);
    expect(String(await broker.send("again"))).toBe("again");
  });

  it("closes a connection whose server stops reading, failing its requests with CONNECTION_LOST", async () => {
    const server = await startRawAnetServer(() => {}, 4);
    const broker = startBroker([server.address], { cap: 1, lengthSize: 4, writeTimeout: 200, timeout: 0, stallTimeout: 0 });
    const first = broker.send("wake");
    await expect.poll(() => server.sockets.length).toBe(1);
    server.sockets[0]!.pause();
    // 32 MiB cannot fit the kernel's socket buffers, so the writer waits for a 'drain' that never comes.
    const big = Array.from({ length: 32 }, () => broker.send(Buffer.alloc(1024 * 1024)));
    const results = await outcomes([first, ...big]);
    expect(new Set(codes(results))).toEqual(new Set(["CONNECTION_LOST"]));
    const reason = (results[1] as PromiseRejectedResult).reason as Error;
    expect(reason.cause).toMatchObject({ code: "SLOW_PEER" });
    // Reading again, the server sees the close the broker sent (the leak check after the test counts on it).
    server.sockets[0]!.resume();
  });
});
