import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  AnetDecoder,
  decodeErrorBody,
  encodeAnetFrame,
  encodeErrorBody,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_PAYLOAD,
  ProtocolError,
} from "../src/index.js";

/*
 * The codecs over a real socket on 127.0.0.1: the kernel, not the test, decides where the stream
 * is cut, and a sender writes encodeFrame's buffers as they are (cork, write each, uncork).
 */

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server on port 0 that hands each connection to `onSocket`; resolves once listening. */
async function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function dial(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  await once(socket, "connect");
  return socket;
}

/** Listens; `frames` resolves once `count` frames are decoded from what connections send. */
async function collect<T>(decoder: { push(chunk: Buffer): T[] }, count: number): Promise<{ port: number; frames: Promise<T[]> }> {
  const received: T[] = [];
  let settle: { resolve: (frames: T[]) => void; reject: (err: unknown) => void } | undefined;
  const frames = new Promise<T[]>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const port = await listen((socket) =>
    socket.on("data", (chunk: Buffer) => {
      try {
        received.push(...decoder.push(chunk));
        if (received.length >= count) settle!.resolve(received);
      } catch (err) {
        settle!.reject(err);
      }
    }),
  );
  return { port, frames };
}

/** Writes several frames' buffers as one batch: cork, write each buffer, uncork. */
function writeBatch(socket: Socket, frames: Buffer[][]): void {
  socket.cork();
  for (const parts of frames) for (const part of parts) socket.write(part);
  socket.uncork();
}

describe("codecs over a real TCP socket", () => {
  it("broker frames of every size up to MAX_PAYLOAD arrive whole and in order", async () => {
    const sizes = [0, 1, 100, 2048, 2049, 65_536, 300_000, MAX_PAYLOAD, 5];
    const payloads = sizes.map((size, i) => Buffer.alloc(size, i + 1));
    const { port, frames } = await collect(new FrameDecoder(), sizes.length);
    writeBatch(
      await dial(port),
      payloads.map((payload, i) => encodeFrame(FrameType.CHUNK, i, Buffer.alloc(16, i), payload)),
    );
    const received = await frames;
    expect(received.map((f) => [f.flags, f.requestId[0], f.payload.length])).toEqual(sizes.map((size, i) => [i, i, size]));
    expect(received.every((frame, i) => frame.payload.equals(payloads[i]!))).toBe(true);
  });

  it("a receiver that meets a bad header can answer ERROR(PROTOCOL_ERROR) the sender decodes", async () => {
    const port = await listen((socket) => {
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => {
        try {
          decoder.push(chunk);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          socket.end(Buffer.concat(encodeFrame(FrameType.ERROR, 0, Buffer.alloc(16), encodeErrorBody(err))));
        }
      });
    });
    const client = await dial(port);
    const answer = new FrameDecoder();
    const frames: Frame[] = [];
    client.on("data", (chunk: Buffer) => frames.push(...answer.push(chunk)));
    client.write(Buffer.concat([Buffer.from([2, FrameType.PING]), Buffer.alloc(22)])); // version 2
    await once(client, "end");
    expect(frames.map((f) => [f.type, decodeErrorBody(f.payload).code])).toEqual([[FrameType.ERROR, "PROTOCOL_ERROR"]]);
  });

  it.each([2, 4] as const)("anet frames with a %d-byte prefix arrive whole, with their task ids", async (lengthSize) => {
    const bodies = [Buffer.alloc(0), Buffer.from("hello"), Buffer.alloc(65_531, 7)];
    const { port, frames } = await collect(new AnetDecoder({ lengthSize }), bodies.length);
    writeBatch(
      await dial(port),
      bodies.map((body, i) => encodeAnetFrame(1000 + i, body, { lengthSize })),
    );
    const received = await frames;
    expect(received.map((f) => f.taskId)).toEqual([1000, 1001, 1002]);
    expect(received.every((frame, i) => frame.body.equals(bodies[i]!))).toBe(true);
  });
});
