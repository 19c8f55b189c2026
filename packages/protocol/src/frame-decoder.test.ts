import { describe, expect, it } from "vitest";
import {
  BrokerError,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameFlags,
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  MIN_PIECE,
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

describe("FrameDecoder with splitChunks", () => {
  /** `one` cut into reads of `size` bytes, each in an ArrayBuffer of its own. */
  function reads(one: Buffer, size: number): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0; at < one.length; at += size) out.push(own(one.subarray(at, at + size)));
    return out;
  }

  it.each([FrameType.CHUNK, FrameType.RESPONSE_CHUNK])("hands a type-%i payload spanning reads out as the pieces it was read in, uncopied, once complete", (type) => {
    const body = patterned(5 * MIN_PIECE);
    const decoder = new FrameDecoder({ splitChunks: true });
    const all = reads(wire(type, 0, idB, body), 2 * MIN_PIECE);
    expect(decoder.push(all[0]!)).toEqual([]);
    expect(decoder.push(all[1]!)).toEqual([]);
    expect(decoder.bufferedBytes).toBe(4 * MIN_PIECE);
    const pieces = decoder.push(all[2]!);
    expect(pieces).toHaveLength(3);
    pieces.forEach((piece, i) => {
      expect(piece.type).toBe(type);
      expect(piece.requestId.equals(idB)).toBe(true);
      expect(piece.payload.buffer).toBe(all[i]!.buffer); // a view of the read: no copy
    });
    expect(Buffer.concat(pieces.map((piece) => piece.payload)).equals(body)).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("joins reads under MIN_PIECE to the ones after them, and hands on the last piece whatever its size", () => {
    const body = patterned(2 * MIN_PIECE + 100);
    const decoder = new FrameDecoder({ splitChunks: true });
    const pieces = decodeAll(reads(wire(FrameType.CHUNK, 0, idA, body), 1000), decoder);
    // 976 + 16 × 1000 bytes make the first run to reach MIN_PIECE; the 15 892 left are the last piece
    expect(pieces.map((piece) => piece.payload.length)).toEqual([976 + 16 * 1000, 2 * MIN_PIECE + 100 - 16_976]);
    expect(Buffer.concat(pieces.map((piece) => piece.payload)).equals(body)).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("still gathers every other type whole, and frames after a split payload come out in order", () => {
    const start = patterned(3 * MIN_PIECE, 1);
    const chunk = patterned(3 * MIN_PIECE, 2);
    const stream = Buffer.concat([wire(FrameType.START, 0, idA, start), wire(FrameType.CHUNK, 0, idA, chunk), wire(FrameType.END, 0, idA)]);
    const frames = decodeAll(reads(stream, 2 * MIN_PIECE), new FrameDecoder({ splitChunks: true }));
    expect(frames[0]!.type).toBe(FrameType.START);
    expect(frames[0]!.payload.equals(start)).toBe(true);
    const chunks = frames.slice(1, -1);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((frame) => frame.type === FrameType.CHUNK)).toBe(true);
    expect(Buffer.concat(chunks.map((frame) => frame.payload)).equals(chunk)).toBe(true);
    expect(frames.at(-1)!.type).toBe(FrameType.END);
  });

  it("hands out a CHUNK that arrives in one read as one frame", () => {
    const body = patterned(3 * MIN_PIECE);
    const frames = new FrameDecoder({ splitChunks: true }).push(wire(FrameType.CHUNK, 0, idA, body));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload.equals(body)).toBe(true);
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
  { what: "type 12", header: rawHeader(1, 12, 1000) },
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
