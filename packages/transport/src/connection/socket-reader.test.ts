import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeFrame, type Frame, FrameDecoder, FrameType, HEADER_SIZE, newId, ProtocolError } from "@switchyard/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { IN_PLACE_MIN, SocketReader } from "./socket-reader.js";

/*
 * SocketReader over real loopback TCP: a server writes frames (whole, or cut into separate writes)
 * and a client socket made with the reader's onread decodes them.
 */

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A body whose bytes depend on their position, so a misplaced byte shows. */
function patterned(size: number, seed = 7): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function wire(type: FrameType, payload: Buffer, id = newId()): Buffer {
  return Buffer.concat(encodeFrame(type, 0, id, payload));
}

/** Serves one connection: `script` writes to it. Returns a connected client reading through a fresh reader. */
async function pair(script: (peer: Socket) => Promise<void>): Promise<{ reader: SocketReader<Frame>; client: Socket }> {
  const server = createServer((peer) => {
    sockets.push(peer);
    void script(peer);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const reader = new SocketReader<Frame>();
  const client = connect({ host: "127.0.0.1", port: (server.address() as { port: number }).port, onread: reader.onread });
  sockets.push(client);
  await once(client, "connect");
  return { reader, client };
}

/** A FrameDecoder that counts the bytes read into payload rooms (in place) rather than pushed. */
class CountingDecoder extends FrameDecoder {
  inPlaceBytes = 0;
  override filled(bytes: number): Frame[] {
    this.inPlaceBytes += bytes;
    return super.filled(bytes);
  }
}

/** Collects what the reader delivers until `count` frames have come. */
function collect(reader: SocketReader<Frame>, count: number, decoder = new CountingDecoder()): { frames: Frame[]; complete: Promise<void>; errors: unknown[] } {
  const frames: Frame[] = [];
  const errors: unknown[] = [];
  let finish!: () => void;
  const complete = new Promise<void>((resolve) => {
    finish = resolve;
  });
  reader.attach(decoder, {
    frames(batch) {
      frames.push(...batch);
      if (frames.length >= count) finish();
    },
    failed(error) {
      errors.push(error);
      finish();
    },
  });
  return { frames, complete, errors };
}

describe("SocketReader", () => {
  it("reads a large payload, written in pieces, straight into one buffer of its own length", async () => {
    const body = patterned(4 * IN_PLACE_MIN + 123);
    const frame = wire(FrameType.RESPONSE_CHUNK, body);
    const { reader, client } = await pair(async (peer) => {
      await once(peer, "data"); // the client's go: its reader is attached
      for (let at = 0; at < frame.length; at += 50_000) {
        peer.write(frame.subarray(at, at + 50_000));
        await sleep(5);
      }
      peer.write(wire(FrameType.RESPONSE_END, Buffer.alloc(0)));
    });
    const decoder = new CountingDecoder();
    const { frames, complete } = collect(reader, 2, decoder);
    client.write("go");
    await complete;
    expect(frames.map((f) => f.type)).toEqual([FrameType.RESPONSE_CHUNK, FrameType.RESPONSE_END]);
    expect(frames[0]!.payload.equals(body)).toBe(true);
    // its own buffer, not sharing memory with the reads around it…
    expect(frames[0]!.payload.buffer.byteLength).toBe(body.length);
    // …and filled in place: all but what came in the first read (≤ 64 KiB) was read straight into it
    expect(decoder.inPlaceBytes).toBeGreaterThanOrEqual(body.length - 64 * 1024);
    expect(decoder.inPlaceBytes).toBeLessThanOrEqual(body.length);
  });

  it("keeps small payloads intact while later reads arrive: a slab is never written over", async () => {
    const bodies = Array.from({ length: 400 }, (_, i) => patterned(100 + i, i));
    const { reader } = await pair(async (peer) => {
      for (const body of bodies) {
        peer.write(wire(FrameType.RESPONSE, body));
        await sleep(0);
      }
    });
    const { frames, complete } = collect(reader, bodies.length);
    await complete;
    // checked only now, after every read: an early payload would show a later read's bytes
    expect(frames.every((frame, i) => frame.payload.equals(bodies[i]!))).toBe(true);
  });

  it("decodes bytes that arrived before attach(), in order, then the rest", async () => {
    const first = patterned(300, 1);
    const second = patterned(3 * IN_PLACE_MIN, 2);
    const { reader } = await pair(async (peer) => {
      peer.write(wire(FrameType.RESPONSE, first));
      await sleep(80);
      peer.write(wire(FrameType.RESPONSE, second));
    });
    await sleep(40); // the first frame is read before anyone attaches
    const { frames, complete } = collect(reader, 2);
    await complete;
    expect(frames[0]!.payload.equals(first)).toBe(true);
    expect(frames[1]!.payload.equals(second)).toBe(true);
  });

  it("reports a stream the decoder refuses once, and delivers nothing after it", async () => {
    const bad = Buffer.alloc(HEADER_SIZE);
    bad[0] = 9; // unsupported version
    const { reader } = await pair(async (peer) => {
      peer.write(Buffer.concat([wire(FrameType.PONG, Buffer.from("ok")), bad, wire(FrameType.PONG, Buffer.from("after"))]));
    });
    const { frames, complete, errors } = collect(reader, 10);
    await complete;
    await sleep(30);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(frames.map((f) => f.payload.toString())).not.toContain("after");
  });

  it("holds a 1 KiB slab while quiet and grows it, up to 64 KiB, when reads fill it", () => {
    const reader = new SocketReader<Frame>();
    const frames: Frame[] = [];
    reader.attach(new FrameDecoder(), { frames: (batch) => frames.push(...batch), failed: (error) => expect.fail(String(error)) });
    const nextRoom = reader.onread.buffer as () => Buffer;
    const read = reader.onread.callback as (bytes: number, buffer: Uint8Array) => boolean;
    // a stream of 100-byte frames, delivered as a socket would: as much as each room takes
    const stream = Buffer.concat(Array.from({ length: 4000 }, () => wire(FrameType.PONG, Buffer.alloc(100 - HEADER_SIZE, 1))));
    const rooms: number[] = [];
    for (let at = 0; at < stream.length; ) {
      const room = nextRoom();
      rooms.push(room.length);
      const bytes = stream.copy(room, 0, at);
      read(bytes, room);
      at += bytes;
    }
    expect(rooms[0]).toBe(1024);
    expect(Math.max(...rooms)).toBe(64 * 1024);
    expect(frames).toHaveLength(4000);
    expect(frames.every((frame) => frame.payload.equals(Buffer.alloc(100 - HEADER_SIZE, 1)))).toBe(true);
  });
});
