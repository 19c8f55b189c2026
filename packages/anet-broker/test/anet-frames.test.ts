import { connect, createServer, type Server, type Socket } from "node:net";
import { AnetDecoder, encodeAnetFrame } from "@switchyard/protocol";
import { SocketWriter } from "@switchyard/transport/internal";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnetFrames } from "../src/anet-frames.js";

/** A connected pair of sockets on 127.0.0.1; closed after each test. */
const opened: Array<Socket | Server> = [];
async function pair(): Promise<{ client: Socket; server: Socket }> {
  const listener = createServer();
  opened.push(listener);
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = connect({ port: (listener.address() as { port: number }).port, host: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
  const server = await accepted;
  opened.push(client, server);
  return { client, server };
}

function received(socket: Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("AnetFrames over a SocketWriter", () => {
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) {
      if ("destroy" in item) item.destroy();
      else await new Promise((resolve) => item.close(resolve));
    }
  });

  it.each([2, 4] as const)("encodes anet frames (%d-byte prefix) into the batch byte for byte as encodeAnetFrame does, a large body uncopied and in order", async (lengthSize) => {
    const { client, server } = await pair();
    const inbox = received(server);
    const write = vi.spyOn(client, "write");
    const writer = new SocketWriter(client, {}, () => {});
    const format = new AnetFrames({ lengthSize, maxBodyBytes: undefined });
    const large = Buffer.alloc(20_000, 0x5a);
    const frames: Array<[number, Uint8Array]> = [
      [1, Buffer.from("first")],
      [0xffff_ffff, Buffer.alloc(0)],
      [7, new Uint8Array([1, 2, 3])],
      [8, large],
      [9, Buffer.from("after")],
    ];
    for (const [taskId, body] of frames) expect(format.write(writer, taskId, body)).toBe(true);
    expect(writer.queuedFrames).toBe(5);
    const expected = Buffer.concat(frames.flatMap(([taskId, body]) => encodeAnetFrame(taskId, body, { lengthSize })));
    await until(() => inbox().length >= expected.length);
    expect(inbox().equals(expected)).toBe(true);
    expect(write.mock.calls.some(([chunk]) => chunk === large)).toBe(true);
  });

  it("makes a decoder per connection that reads back what it writes", () => {
    const format = new AnetFrames({ lengthSize: 4, maxBodyBytes: 100 });
    const one = format.decoder();
    expect(one).toBeInstanceOf(AnetDecoder);
    expect(format.decoder()).not.toBe(one);
    const [frame] = one.push(Buffer.concat(encodeAnetFrame(42, Buffer.from("hello"), { lengthSize: 4 })));
    expect(frame?.taskId).toBe(42);
    expect(frame?.body.toString()).toBe("hello");
    expect(() => format.decoder().push(Buffer.concat(encodeAnetFrame(1, Buffer.alloc(101), { lengthSize: 4 })))).toThrow(/exceeds the maximum/);
  });
});
