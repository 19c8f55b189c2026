import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { AnetDecoder, encodeAnetFrame } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { createAnetServer } from "../src/index.js";
import { onCleanup, rejection } from "@switchyard/testing";
import { startBroker, startServer } from "./helpers.js";

/** A bare client socket that records the task ids of the answers, in arrival order. */
async function client(address: string) {
  const [host, port] = address.split(":") as [string, string];
  const socket: Socket = connect({ host, port: Number(port) });
  await new Promise((resolve) => socket.once("connect", resolve));
  onCleanup(() => void socket.destroy());
  const decoder = new AnetDecoder();
  const answers: Array<{ taskId: number; body: string }> = [];
  socket.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) answers.push({ taskId: frame.taskId, body: String(frame.body) });
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const send = (taskId: number, body: string) => socket.write(Buffer.concat(encodeAnetFrame(taskId, Buffer.from(body))));
  return { socket, answers, closed, send };
}

describe("createAnetServer", () => {
  it("refuses codec options the wire cannot carry, as the Broker does, with INVALID_ARGUMENT naming them", () => {
    expect(() => createAnetServer(async (body) => body, { lengthSize: 3 as 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining('createAnetServer option "lengthSize"') }),
    );
    expect(() => createAnetServer(async (body) => body, { maxBodyBytes: -1 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining('createAnetServer option "maxBodyBytes"') }),
    );
  });

  it("answers each request as soon as its handler resolves, so slow ones are overtaken", async () => {
    const address = await startServer(async (body) => {
      await sleep(Number(String(body)));
      return `done ${body}`;
    });
    const c = await client(address);
    c.send(1, "120");
    c.send(2, "60");
    c.send(3, "0");
    await expect.poll(() => c.answers.length).toBe(3);
    expect(c.answers).toEqual([
      { taskId: 3, body: "done 0" },
      { taskId: 2, body: "done 60" },
      { taskId: 1, body: "done 120" },
    ]);
  });

  it("runs at most `maxInflightPerConn` handlers at once on a connection and answers every request", async () => {
    let running = 0;
    let peak = 0;
    const address = await startServer(
      async (body) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(1);
        running--;
        return body;
      },
      { maxInflightPerConn: 3 },
    );
    const c = await client(address);
    for (let i = 0; i < 50; i++) c.send(i, `q${i}`);
    await expect.poll(() => c.answers.length).toBe(50);
    expect(peak).toBe(3);
    expect(c.answers.map((a) => a.taskId).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("closes a connection that sends a length below 4, and keeps serving others", async () => {
    const address = await startServer((body) => body);
    const bad = await client(address);
    bad.socket.write(Buffer.from([0x00, 0x02, 0xaa, 0xbb]));
    await bad.closed;
    const good = await client(address);
    good.send(7, "fine");
    await expect.poll(() => good.answers).toEqual([{ taskId: 7, body: "fine" }]);
  });

  it("closes the connection when a handler throws, so the broker fails that request with CONNECTION_LOST at once", async () => {
    const address = await startServer(async (body) => {
      if (String(body) === "boom") throw new Error("handler failed");
      return body;
    });
    const broker = startBroker([address], { cap: 1, timeout: 30_000 });
    await rejection(broker.send("boom"), "CONNECTION_LOST");
    expect(String(await broker.send("fine"))).toBe("fine");
  });

  it("listens on a free port with listen(0), reports it, and close() ends open connections", async () => {
    const server = createAnetServer((body) => body);
    expect(server.address()).toBeNull();
    const { host, port } = await server.listen(0);
    expect(host).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    expect(server.address()).toEqual({ host, port });
    const c = await client(`${host}:${port}`);
    await expect.poll(() => server.connections).toBe(1);
    await server.close();
    await c.closed;
    expect(server.connections).toBe(0);
  });

  it("await using closes it at the end of its scope: its connections end and its port refuses", async () => {
    let port = 0;
    let open: Awaited<ReturnType<typeof client>> | null = null;
    {
      await using server = createAnetServer((body) => body);
      port = (await server.listen(0)).port;
      open = await client(`127.0.0.1:${port}`);
      await expect.poll(() => server.connections).toBe(1);
    }
    await open.closed;
    const refused = connect({ host: "127.0.0.1", port });
    await expect(new Promise((_, reject) => refused.once("error", reject))).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
