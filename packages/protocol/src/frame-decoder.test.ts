import { describe, expect, it } from "vitest";
import {
  BrokerError,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameFlags,
  FrameType,
  HEADER_SIZE,
  InvalidArgumentError,
  MAX_FRAME_TYPE,
  MAX_PAYLOAD,
  MIN_PART,
  payloadLength,
  ProtocolError,
  SwitchyardError,
} from "./index.js";

const idA = Buffer.from("00112233445566778899aabbccddeeff", "hex");
const idB = Buffer.from("ffeeddccbbaa99887766554433221100", "hex");

/** One encoded frame as a single buffer. */
function wire(type: FrameType, flags: number, id: Buffer, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat(encodeFrame(type, flags, id, payload));
}

/** A copy of `bytes` in an ArrayBuffer of its own, so memory sharing can be told apart from pooling. */
function own(bytes: Uint8Array): Buffer {
  const out = Buffer.from(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/** What a frame says, as plain values that compare with toEqual. */
function summary(frames: Frame[]): [number, number, string, string][] {
  return frames.map((f) => [f.type, f.flags, f.requestId.toString("hex"), f.payload.toString("hex")]);
}

/** Pushes every piece in order and returns all frames completed. */
function decodeAll(pieces: Buffer[], decoder = new FrameDecoder()): Frame[] {
  return pieces.flatMap((piece) => decoder.push(piece));
}

/** A body whose bytes depend on their position, so a misplaced byte shows. */
function patterned(size: number, seed = 7): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Three frames of different shapes: a START with a body, an empty END, a larger CHUNK. */
const stream = Buffer.concat([
  wire(FrameType.START, FrameFlags.FINAL, idA, Buffer.from("hello")),
  wire(FrameType.END, FrameFlags.NONE, idB),
  wire(FrameType.CHUNK, FrameFlags.NONE, idA, patterned(40)),
]);
const expected = summary(new FrameDecoder().push(stream));

describe("FrameDecoder streaming", () => {
  it("reads the three reference frames from one chunk", () => {
    expect(expected).toEqual([
      [FrameType.START, FrameFlags.FINAL, idA.toString("hex"), Buffer.from("hello").toString("hex")],
      [FrameType.END, 0, idB.toString("hex"), ""],
      [FrameType.CHUNK, 0, idA.toString("hex"), patterned(40).toString("hex")],
    ]);
  });

  it("decodes a stream fed one byte at a time into the same frames", () => {
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < stream.length; i++) {
      frames.push(...decoder.push(stream.subarray(i, i + 1)));
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(HEADER_SIZE + 40);
    }
    expect(summary(frames)).toEqual(expected);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("returns every frame of a chunk that holds many, in order", () => {
    const many = Array.from({ length: 100 }, (_, i) => wire(FrameType.CHUNK, i, idA, patterned(i % 7, i)));
    const frames = new FrameDecoder().push(Buffer.concat(many));
    expect(frames.map((f) => f.flags)).toEqual(many.map((_, i) => i));
    expect(frames.map((f) => f.payload.toString("hex"))).toEqual(many.map((_, i) => patterned(i % 7, i).toString("hex")));
  });

  it("holds a header split across pieces until its last byte arrives", () => {
    const decoder = new FrameDecoder();
    const one = wire(FrameType.RESPONSE, 0, idB, Buffer.from("ok"));
    expect(decoder.push(one.subarray(0, 5))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(HEADER_SIZE);
    expect(decoder.push(one.subarray(5, HEADER_SIZE - 1))).toEqual([]);
    const frames = decoder.push(one.subarray(HEADER_SIZE - 1));
    expect(summary(frames)).toEqual([[FrameType.RESPONSE, 0, idB.toString("hex"), Buffer.from("ok").toString("hex")]]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("decodes the same frames whatever single offset a multi-frame stream is split at", () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(summary(decodeAll([stream.subarray(0, at), stream.subarray(at)])), `split at ${at}`).toEqual(expected);
    }
  });

  it("decodes the same frames whatever two offsets a multi-frame stream is split at", () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const pieces = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect(summary(decodeAll(pieces)), `split at ${a} and ${b}`).toEqual(expected);
      }
    }
  });

  it("ignores empty pieces", () => {
    const empty = Buffer.alloc(0);
    const pieces = [empty, stream.subarray(0, 30), empty, stream.subarray(30), empty];
    expect(summary(decodeAll(pieces))).toEqual(expected);
  });
});

describe("FrameDecoder memory", () => {
  it("hands out a payload wholly inside one chunk as a view of that chunk's memory", () => {
    const chunk = own(stream);
    const [start, , last] = new FrameDecoder().push(chunk);
    expect(start!.payload.buffer).toBe(chunk.buffer);
    expect(start!.payload.byteOffset).toBe(chunk.byteOffset + HEADER_SIZE);
    expect(start!.requestId.buffer).toBe(chunk.buffer);
    expect(last!.payload.buffer).toBe(chunk.buffer);
    chunk[HEADER_SIZE] = 0x48; // "h" → "H": a view sees the change, a copy would not
    expect(start!.payload.toString()).toBe("Hello");
  });

  it("still hands out a view when part of the header came in an earlier piece", () => {
    const one = wire(FrameType.CHUNK, 0, idA, patterned(100));
    const decoder = new FrameDecoder();
    expect(decoder.push(own(one.subarray(0, 10)))).toEqual([]);
    const rest = own(one.subarray(10));
    const [frame] = decoder.push(rest);
    expect(frame!.payload.buffer).toBe(rest.buffer);
    expect(frame!.payload.equals(patterned(100))).toBe(true);
  });

  it("hands out a view when the header ends a piece and the whole payload comes in the next", () => {
    const one = wire(FrameType.CHUNK, 0, idA, patterned(100));
    const decoder = new FrameDecoder();
    expect(decoder.push(own(one.subarray(0, HEADER_SIZE)))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(HEADER_SIZE);
    const rest = own(one.subarray(HEADER_SIZE));
    const [frame] = decoder.push(rest);
    expect(frame!.payload.buffer).toBe(rest.buffer);
    expect(frame!.payload.equals(patterned(100))).toBe(true);
  });

  it("assembles a frame whose payload spans chunks into one buffer of its own", () => {
    const body = patterned(3000);
    const one = wire(FrameType.RESPONSE_CHUNK, 0, idB, body);
    const pieces = [own(one.subarray(0, 100)), own(one.subarray(100, 2000)), own(one.subarray(2000))];
    const decoder = new FrameDecoder();
    expect(decoder.push(pieces[0]!)).toEqual([]);
    expect(decoder.bufferedBytes).toBe(100); // what arrived, not the declared length
    expect(decoder.push(pieces[1]!)).toEqual([]);
    const [frame] = decoder.push(pieces[2]!);
    expect(frame!.payload.equals(body)).toBe(true);
    expect(frame!.requestId.equals(idB)).toBe(true);
    for (const piece of pieces) expect(frame!.payload.buffer).not.toBe(piece.buffer);
    expect(decoder.bufferedBytes).toBe(0);
  });
});

/** `one` cut into reads of `size` bytes, each in an ArrayBuffer of its own. */
function reads(one: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < one.length; at += size) out.push(own(one.subarray(at, at + size)));
  return out;
}

describe("FrameDecoder with keepChunkParts", () => {
  it.each([FrameType.CHUNK, FrameType.RESPONSE_CHUNK])("hands a type-%i payload spanning reads out as one frame with the reads as its parts, uncopied", (type) => {
    const body = patterned(5 * MIN_PART);
    const decoder = new FrameDecoder({ keepChunkParts: true });
    const all = reads(wire(type, 0, idB, body), 2 * MIN_PART);
    expect(decoder.push(all[0]!)).toEqual([]);
    expect(decoder.push(all[1]!)).toEqual([]);
    const [frame, ...more] = decoder.push(all[2]!);
    expect(more).toEqual([]);
    expect(frame!.type).toBe(type);
    expect(frame!.requestId.equals(idB)).toBe(true);
    expect(frame!.parts).toHaveLength(3);
    for (const [i, part] of frame!.parts!.entries()) expect(part.buffer).toBe(all[i]!.buffer); // views of the reads: no copy
    expect(payloadLength(frame!)).toBe(body.length);
    expect(frame!.payload.equals(body)).toBe(true); // joined on demand
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("copies reads under MIN_PART together, so a payload dribbled byte by byte is a few parts, not a view per read", () => {
    const body = patterned(2 * MIN_PART + 100);
    const decoder = new FrameDecoder({ keepChunkParts: true });
    const frames = decodeAll(reads(wire(FrameType.CHUNK, 0, idA, body), 1), decoder);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.parts!.length).toBeLessThanOrEqual(4);
    expect(Buffer.concat(frames[0]!.parts!).equals(body)).toBe(true);
  });

  it("still gathers every other type whole, and frames after a parted payload come out in order", () => {
    const start = patterned(3 * MIN_PART, 1);
    const chunk = patterned(3 * MIN_PART, 2);
    const stream = Buffer.concat([wire(FrameType.START, 0, idA, start), wire(FrameType.CHUNK, 0, idA, chunk), wire(FrameType.END, 0, idA)]);
    const frames = decodeAll(reads(stream, 2 * MIN_PART), new FrameDecoder({ keepChunkParts: true }));
    expect(frames.map((frame) => frame.type)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.END]);
    expect(frames[0]!.parts).toBeUndefined();
    expect(frames[0]!.payload.equals(start)).toBe(true);
    expect(frames[1]!.parts!.length).toBeGreaterThan(1);
    expect(frames[1]!.payload.equals(chunk)).toBe(true);
  });

  it("hands out a CHUNK that arrives in one read as a plain view", () => {
    const body = patterned(3 * MIN_PART);
    const [frame] = new FrameDecoder({ keepChunkParts: true }).push(wire(FrameType.CHUNK, 0, idA, body));
    expect(frame!.parts).toBeUndefined();
    expect(frame!.payload.equals(body)).toBe(true);
  });
});

describe("FrameDecoder reading a payload in place", () => {
  const body = patterned(200_000);
  const stream = Buffer.concat([wire(FrameType.RESPONSE_CHUNK, 0, idA, body), wire(FrameType.RESPONSE_END, 0, idA)]);

  it("gives the rest of a large payload as room to read into, and completes the frame from filled()", () => {
    const decoder = new FrameDecoder();
    expect(decoder.payloadRoom(1)).toBeNull(); // nothing in progress
    expect(decoder.push(stream.subarray(0, 1000))).toEqual([]);
    expect(decoder.payloadRoom(body.length)).toBeNull(); // less than that is still to come
    const room = decoder.payloadRoom(64 * 1024)!;
    expect(room.length).toBe(body.length - (1000 - HEADER_SIZE));
    expect(decoder.bufferedBytes).toBe(HEADER_SIZE + body.length); // the whole payload's buffer, now
    const rest = HEADER_SIZE + body.length - 1000;
    stream.copy(room, 0, 1000, 1000 + 50_000); // a socket read of 50 000 bytes
    expect(decoder.filled(50_000)).toEqual([]);
    const again = decoder.payloadRoom(body.length)!; // once in place, the room is offered to the end
    expect(again.buffer).toBe(room.buffer);
    stream.copy(again, 0, 51_000, 1000 + rest);
    const [frame] = decoder.filled(rest - 50_000);
    expect(frame!.payload.equals(body)).toBe(true);
    expect(frame!.payload.buffer).toBe(room.buffer); // read in place: no gathering copy
    expect(decoder.push(stream.subarray(1000 + rest)).map((f) => f.type)).toEqual([FrameType.RESPONSE_END]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("still takes push() for a payload that has room (copying into it)", () => {
    const decoder = new FrameDecoder();
    decoder.push(stream.subarray(0, 1000));
    decoder.payloadRoom(1);
    const frames = decoder.push(stream.subarray(1000));
    expect(frames.map((f) => f.type)).toEqual([FrameType.RESPONSE_CHUNK, FrameType.RESPONSE_END]);
    expect(frames[0]!.payload.equals(body)).toBe(true);
  });

  it("refuses filled() for bytes no room held, and stays failed", () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.filled(1)).toThrow(InvalidArgumentError);
    expect(() => decoder.push(stream)).toThrow(InvalidArgumentError);
  });
});

/** A raw header written field by field, so fields the encoder refuses can be sent anyway. */
function rawHeader(version: number, type: number, length: number): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header[0] = version;
  header[1] = type;
  header.writeUInt32BE(length, 20);
  return header;
}

/** The error `fn` throws; fails the test if it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

function expectProtocolError(err: unknown): void {
  expect(err).toBeInstanceOf(ProtocolError);
  expect(err).toBeInstanceOf(BrokerError);
  expect(err).toBeInstanceOf(SwitchyardError);
  expect((err as ProtocolError).code).toBe("PROTOCOL_ERROR");
  expect((err as ProtocolError).wireCode).toBe(1);
}

const badHeaders = [
  { what: "version 0", header: rawHeader(0, FrameType.CHUNK, 1000) },
  { what: "version 2", header: rawHeader(2, FrameType.CHUNK, 1000) },
  { what: "type 0", header: rawHeader(1, 0, 1000) },
  { what: "a type past the last known one", header: rawHeader(1, MAX_FRAME_TYPE + 1, 1000) },
  { what: "length MAX_PAYLOAD + 1", header: rawHeader(1, FrameType.CHUNK, MAX_PAYLOAD + 1) },
  { what: "length 0xffffffff", header: rawHeader(1, FrameType.CHUNK, 0xffff_ffff) },
];

describe.each(badHeaders)("FrameDecoder given a header with $what", ({ header }) => {
  it("throws ProtocolError(PROTOCOL_ERROR) on the push that completes the header", () => {
    const decoder = new FrameDecoder();
    expectProtocolError(thrown(() => decoder.push(header)));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("refuses it before buffering any payload, even with payload bytes in the same chunk", () => {
    const decoder = new FrameDecoder();
    expectProtocolError(thrown(() => decoder.push(Buffer.concat([header, Buffer.alloc(500)]))));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("buffers no more than the header while it trickles in byte by byte", () => {
    const decoder = new FrameDecoder();
    for (let i = 0; i < HEADER_SIZE - 1; i++) {
      expect(decoder.push(header.subarray(i, i + 1))).toEqual([]);
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(HEADER_SIZE);
    }
    expectProtocolError(thrown(() => decoder.push(header.subarray(HEADER_SIZE - 1))));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("refuses it after valid frames and stays failed for every later push", () => {
    const decoder = new FrameDecoder();
    const good = wire(FrameType.PING, 0, idA, Buffer.from("x"));
    expect(decoder.push(good)).toHaveLength(1);
    const first = thrown(() => decoder.push(Buffer.concat([good, header])));
    expectProtocolError(first);
    expect(thrown(() => decoder.push(good))).toBe(first);
    expect(thrown(() => decoder.push(Buffer.alloc(0)))).toBe(first);
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe("FrameDecoder payload limits", () => {
  it("accepts a payload of exactly MAX_PAYLOAD bytes, in one chunk or split", () => {
    const body = patterned(MAX_PAYLOAD);
    const one = wire(FrameType.CHUNK, 0, idA, body);
    const [whole] = new FrameDecoder().push(one);
    expect(whole!.payload.equals(body)).toBe(true);

    const decoder = new FrameDecoder();
    expect(decoder.push(one.subarray(0, 1000))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(1000); // what arrived, not HEADER_SIZE + MAX_PAYLOAD
    const [split] = decoder.push(one.subarray(1000));
    expect(split!.payload.equals(body)).toBe(true);
  });

  it("honours a smaller maxPayload option: that many bytes pass, one more is refused", () => {
    const atLimit = wire(FrameType.CHUNK, 0, idA, patterned(100));
    expect(new FrameDecoder({ maxPayload: 100 }).push(atLimit)).toHaveLength(1);
    const decoder = new FrameDecoder({ maxPayload: 100 });
    expectProtocolError(thrown(() => decoder.push(rawHeader(1, FrameType.CHUNK, 101))));
  });
});
