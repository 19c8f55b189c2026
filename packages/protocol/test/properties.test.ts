import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AnetCodecOptions,
  AnetDecoder,
  AnetError,
  encodeAnetFrame,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_SIZE,
  InvalidMsgLengthError,
  MAX_FRAME_TYPE,
  MAX_PAYLOAD,
  MaxLenExceededError,
  maxAnetBody,
  payloadLength,
  ProtocolError,
  TASK_ID_SIZE,
} from "../src/index.js";

/*
 * Property tests: random streams, cut at random places, through the streaming decoders. Runs are
 * kept moderate so the file finishes in a few seconds on two slow cores; a failure prints the
 * seed that reproduces it.
 */
const RUNS = { numRuns: 150 };

/** Any u32 (fast-check's integers stop at 2^31 − 1). */
const u32Arb = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([high, low]) => high * 0x1_0000 + low);

/** Cut points as fractions-to-be: each is reduced modulo the stream length + 1. */
const cutsArb = fc.array(fc.nat(), { maxLength: 24 });

/** `stream` cut at the given points (sorted, reduced into range); pieces may be empty. */
function cut(stream: Buffer, cuts: number[]): Buffer[] {
  const points = cuts.map((c) => c % (stream.length + 1)).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    pieces.push(stream.subarray(from, point));
    from = point;
  }
  pieces.push(stream.subarray(from));
  return pieces;
}

/** Payload sizes: mostly up to 4 KiB (0 and 1 included), sometimes up to MAX_PAYLOAD. */
const sizeArb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(0, 1, HEADER_SIZE) },
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: MAX_PAYLOAD }) },
);

/** Bytes of `size` filled with a short random pattern: cheap to build at any size, yet misplacements show. */
const bytesArb = (size: fc.Arbitrary<number>) =>
  fc.tuple(size, fc.uint8Array({ minLength: 1, maxLength: 7 })).map(([n, pattern]) => Buffer.alloc(n, pattern));

const frameArb = fc.record({
  type: fc.integer({ min: 1, max: MAX_FRAME_TYPE }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  requestId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((id) => Buffer.from(id)),
  payload: bytesArb(sizeArb),
  /** Where encodeFrame's payload is split into two parts, to exercise multi-part encoding. */
  partAt: fc.nat(),
});

type FrameSpec = typeof frameArb extends fc.Arbitrary<infer T> ? T : never;

function encodeSpec(spec: FrameSpec): Buffer[] {
  const at = spec.partAt % (spec.payload.length + 1);
  return encodeFrame(spec.type as Frame["type"], spec.flags, spec.requestId, spec.payload.subarray(0, at), spec.payload.subarray(at));
}

/** A header laid out by hand from random fields, valid or not. */
const rawHeaderArb = fc
  .record({
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
    type: fc.oneof(fc.integer({ min: 1, max: MAX_FRAME_TYPE }), fc.integer({ min: 0, max: 255 })),
    flags: fc.integer({ min: 0, max: 0xffff }),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: MAX_PAYLOAD + 16 }), u32Arb),
  })
  .map(({ version, type, flags, length }) => {
    const header = Buffer.alloc(HEADER_SIZE);
    header[0] = version;
    header[1] = type;
    header.writeUInt16BE(flags, 2);
    header.writeUInt32BE(length, 20);
    return header;
  });

/** Garbage with structure: random bytes, hand-made headers and well-formed small frames, mixed. */
const brokerGarbageArb = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      rawHeaderArb,
      frameArb.filter((spec) => spec.payload.length <= 4096).map((spec) => Buffer.concat(encodeSpec(spec))),
    ),
    { maxLength: 12 },
  )
  .map((segments) => Buffer.concat(segments));

/** What FrameDecoder and AnetDecoder have in common. */
interface StreamDecoder<T> {
  push(chunk: Buffer): T[];
  readonly bufferedBytes: number;
}

/**
 * Feeds `pieces` to a decoder and returns what came out. The only error allowed is one `isTyped`
 * accepts; after it, the decoder must refuse every push with that same error. `bufferedBytes`
 * must stay within `bound` at every step.
 */
function feedHostile<T>(
  decoder: StreamDecoder<T>,
  pieces: Buffer[],
  bound: number,
  isTyped: (err: unknown) => void,
): { frames: T[]; failed: boolean } {
  const frames: T[] = [];
  for (const piece of pieces) {
    try {
      frames.push(...decoder.push(piece));
    } catch (err) {
      isTyped(err);
      expect(decoder.bufferedBytes).toBe(0);
      let again: unknown;
      try {
        decoder.push(Buffer.alloc(1));
      } catch (later) {
        again = later;
      }
      expect(again).toBe(err);
      return { frames, failed: true };
    } finally {
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(bound);
    }
  }
  return { frames, failed: false };
}

/** Sizes of pieces a slow (or hostile) peer trickles. */
const trickleArb = fc.array(fc.integer({ min: 0, max: 512 }), { minLength: 1, maxLength: 40 });

/**
 * Pushes a frame's `head`, then trickles all but one byte of its `rest`-byte payload in pieces of
 * the given sizes: nothing comes out and exactly head + rest bytes are held, no more, at every
 * step. The last byte then completes exactly one frame and frees the buffer.
 */
function expectHeldWhileTrickling(decoder: StreamDecoder<unknown>, head: Buffer, rest: number, trickle: number[]): void {
  expect(decoder.push(head)).toEqual([]);
  let sent = 0;
  for (const size of trickle) {
    const piece = Buffer.alloc(Math.min(size, rest - 1 - sent));
    sent += piece.length;
    expect(decoder.push(piece)).toEqual([]);
    // what arrived, never what the header merely declares
    expect(decoder.bufferedBytes).toBe(head.length + sent);
  }
  expect(decoder.push(Buffer.alloc(rest - sent))).toHaveLength(1);
  expect(decoder.bufferedBytes).toBe(0);
}

function expectProtocolError(err: unknown): void {
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe("PROTOCOL_ERROR");
  expect((err as ProtocolError).wireCode).toBe(1);
}

function expectAnetLengthError(err: unknown): void {
  expect(err).toBeInstanceOf(AnetError);
  if (err instanceof InvalidMsgLengthError) expect(err.code).toBe("INVALID_MSG_LENGTH");
  else if (err instanceof MaxLenExceededError) expect(err.code).toBe("MAX_LEN_EXCEEDED");
  else expect.fail(`unexpected anet error ${String(err)}`);
}

describe("broker frames, properties", () => {
  it("any frames, encoded and cut anywhere, decode to the same frames", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), cutsArb, (specs, cuts) => {
        const stream = Buffer.concat(specs.flatMap(encodeSpec));
        const decoder = new FrameDecoder();
        const { frames } = feedHostile(decoder, cut(stream, cuts), HEADER_SIZE + MAX_PAYLOAD, () => expect.fail("valid stream refused"));
        expect(frames.map((f) => [f.type, f.flags, f.requestId.toString("hex"), f.payload.length])).toEqual(
          specs.map((s) => [s.type, s.flags, s.requestId.toString("hex"), s.payload.length]),
        );
        expect(frames.every((frame, i) => frame.payload.equals(specs[i]!.payload))).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      RUNS,
    );
  });

  it("garbage cut anywhere only ever yields valid frames or a ProtocolError, with bounded buffering", () => {
    fc.assert(
      fc.property(brokerGarbageArb, cutsArb, (stream, cuts) => {
        const { frames } = feedHostile(new FrameDecoder(), cut(stream, cuts), HEADER_SIZE + MAX_PAYLOAD, expectProtocolError);
        for (const frame of frames) {
          expect(frame.type).toBeGreaterThanOrEqual(1);
          expect(frame.type).toBeLessThanOrEqual(MAX_FRAME_TYPE);
          expect(frame.requestId).toHaveLength(16);
          expect(frame.payload.length).toBeLessThanOrEqual(MAX_PAYLOAD);
        }
      }),
      RUNS,
    );
  });

  it("a valid header declaring a large length, then trickled bytes, holds only the bytes that arrived", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_PAYLOAD }), trickleArb, (length, trickle) => {
        const [header] = encodeFrame(2, 0, Buffer.alloc(16), Buffer.alloc(length));
        expectHeldWhileTrickling(new FrameDecoder(), header!.subarray(0, HEADER_SIZE), length, trickle);
      }),
      { numRuns: 40 },
    );
  });
});

describe("broker frames with keepChunkParts, properties", () => {
  it("any frames cut anywhere decode to the same frames, parts joining into the payload", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), cutsArb, (specs, cuts) => {
        const stream = Buffer.concat(specs.flatMap(encodeSpec));
        const decoder = new FrameDecoder({ keepChunkParts: true });
        const { frames } = feedHostile(decoder, cut(stream, cuts), HEADER_SIZE + MAX_PAYLOAD, () => expect.fail("valid stream refused"));
        expect(frames.map((f) => [f.type, f.flags, f.requestId.toString("hex"), payloadLength(f)])).toEqual(
          specs.map((s) => [s.type, s.flags, s.requestId.toString("hex"), s.payload.length]),
        );
        frames.forEach((frame, i) => {
          if (frame.parts !== undefined) {
            expect(frame.type === FrameType.CHUNK || frame.type === FrameType.RESPONSE_CHUNK).toBe(true);
            expect(Buffer.concat(frame.parts).equals(specs[i]!.payload)).toBe(true);
          }
          expect(frame.payload.equals(specs[i]!.payload)).toBe(true);
        });
        expect(decoder.bufferedBytes).toBe(0);
      }),
      RUNS,
    );
  });

  it("garbage cut anywhere only ever yields valid frames or a ProtocolError, with bounded buffering", () => {
    fc.assert(
      fc.property(brokerGarbageArb, cutsArb, (stream, cuts) => {
        feedHostile(new FrameDecoder({ keepChunkParts: true }), cut(stream, cuts), HEADER_SIZE + MAX_PAYLOAD, expectProtocolError);
      }),
      RUNS,
    );
  });
});

describe("broker frames read in place, properties", () => {
  /**
   * A socket's reads as onread makes them: after each read the reader asks for room for a large
   * payload (at least `minRemaining` to come) and, given some, the next read lands there, as many
   * bytes as the room and the stream allow; otherwise the next read is the next cut piece.
   */
  function readInPlace(decoder: FrameDecoder, stream: Buffer, cuts: number[], minRemaining: number): Frame[] {
    const frames: Frame[] = [];
    const pieces = cut(stream, cuts);
    let at = 0;
    for (let next = 0; at < stream.length; ) {
      const room = decoder.payloadRoom(minRemaining);
      if (room !== null) {
        const piece = pieces[Math.min(next, pieces.length - 1)]!;
        const bytes = Math.min(room.length, Math.max(1, piece.length), stream.length - at);
        stream.copy(room, 0, at, at + bytes);
        frames.push(...decoder.filled(bytes));
        at += bytes;
        next++;
        continue;
      }
      const piece = stream.subarray(at, at + Math.max(1, pieces[Math.min(next++, pieces.length - 1)]!.length));
      frames.push(...decoder.push(piece));
      at += piece.length;
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(HEADER_SIZE + MAX_PAYLOAD);
    }
    return frames;
  }

  it("any frames, read into payload rooms wherever offered, decode to the same frames", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), cutsArb, fc.integer({ min: 1, max: 8192 }), (specs, cuts, minRemaining) => {
        const stream = Buffer.concat(specs.flatMap(encodeSpec));
        const decoder = new FrameDecoder();
        const frames = readInPlace(decoder, stream, cuts, minRemaining);
        expect(frames.map((f) => [f.type, f.flags, f.requestId.toString("hex")])).toEqual(specs.map((s) => [s.type, s.flags, s.requestId.toString("hex")]));
        expect(frames.every((frame, i) => frame.payload.equals(specs[i]!.payload))).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      RUNS,
    );
  });
});

const anetVariants: AnetCodecOptions[] = [{ lengthSize: 2 }, { lengthSize: 4 }, { lengthSize: 2, maxBodyBytes: 100 }, { lengthSize: 4, maxBodyBytes: 100 }];

describe.each(anetVariants)("anet frames with %o, properties", (options) => {
  const lengthSize = options.lengthSize!;
  const maxBody = maxAnetBody(options);
  const bound = lengthSize + TASK_ID_SIZE + maxBody;
  const fieldMax = 2 ** (8 * lengthSize) - 1;

  const anetFrameArb = fc.record({
    taskId: u32Arb,
    body: bytesArb(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: Math.min(maxBody, 2048) }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: maxBody }) })),
  });

  /** A length prefix with a random value: tiny (often below 4), in range, or anything the field holds. */
  const prefixArb = fc
    .oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: Math.min(maxBody + TASK_ID_SIZE + 8, fieldMax) }), lengthSize === 2 ? fc.nat(fieldMax) : u32Arb)
    .map((length) => {
      const prefix = Buffer.alloc(lengthSize);
      prefix.writeUIntBE(length, 0, lengthSize);
      return prefix;
    });

  const garbageArb = fc
    .array(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        prefixArb,
        anetFrameArb.filter((f) => f.body.length <= 2048).map((f) => Buffer.concat(encodeAnetFrame(f.taskId, f.body, options))),
      ),
      { maxLength: 12 },
    )
    .map((segments) => Buffer.concat(segments));

  it("any frames, encoded and cut anywhere, decode to the same frames", () => {
    fc.assert(
      fc.property(fc.array(anetFrameArb, { maxLength: 8 }), cutsArb, (specs, cuts) => {
        const stream = Buffer.concat(specs.flatMap((f) => encodeAnetFrame(f.taskId, f.body, options)));
        const decoder = new AnetDecoder(options);
        const { frames } = feedHostile(decoder, cut(stream, cuts), bound, () => expect.fail("valid stream refused"));
        expect(frames.map((f) => f.taskId)).toEqual(specs.map((f) => f.taskId));
        expect(frames.every((frame, i) => frame.body.equals(specs[i]!.body))).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      RUNS,
    );
  });

  it("garbage cut anywhere only ever yields frames or a typed length error, with bounded buffering", () => {
    fc.assert(
      fc.property(garbageArb, cutsArb, (stream, cuts) => {
        const { frames } = feedHostile(new AnetDecoder(options), cut(stream, cuts), bound, expectAnetLengthError);
        for (const frame of frames) expect(frame.body.length).toBeLessThanOrEqual(maxBody);
      }),
      RUNS,
    );
  });

  it("a valid prefix declaring the largest length, then trickled bytes, holds only the bytes that arrived", () => {
    fc.assert(
      fc.property(trickleArb, (trickle) => {
        const [head] = encodeAnetFrame(1, Buffer.alloc(maxBody), options);
        expectHeldWhileTrickling(new AnetDecoder(options), head!, maxBody, trickle);
      }),
      { numRuns: 20 },
    );
  });
});
