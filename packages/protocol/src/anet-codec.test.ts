import { describe, expect, it } from "vitest";
import {
  type AnetCodecOptions,
  AnetDecoder,
  AnetError,
  type AnetFrame,
  encodeAnetFrame,
  InvalidMsgLengthError,
  MAX_ANET_BODY_U16,
  MaxLenExceededError,
  maxAnetBody,
  SwitchyardError,
} from "./index.js";
import { DEFAULT_MAX_ANET_BODY_U32 } from "./anet-codec.js";

/** One anet frame as a single buffer. */
function wire(taskId: number, body: Uint8Array, options?: AnetCodecOptions): Buffer {
  return Buffer.concat(encodeAnetFrame(taskId, body, options));
}

function summary(frames: AnetFrame[]): [number, string][] {
  return frames.map((f) => [f.taskId, f.body.toString("hex")]);
}

const invalidLength = expect.objectContaining({ name: "InvalidMsgLengthError", code: "INVALID_MSG_LENGTH" });
const maxLen = expect.objectContaining({ name: "MaxLenExceededError", code: "MAX_LEN_EXCEEDED" });

describe.each([2, 4] as const)("anet with a %d-byte length prefix", (lengthSize) => {
  const options = { lengthSize };
  const stream = Buffer.concat([
    wire(1, Buffer.from("first"), options),
    wire(0xffff_ffff, Buffer.alloc(0), options),
    wire(7, Buffer.alloc(300, 0x5a), options),
  ]);
  const expected: [number, string][] = [
    [1, Buffer.from("first").toString("hex")],
    [0xffff_ffff, ""],
    [7, Buffer.alloc(300, 0x5a).toString("hex")],
  ];

  it("decodes several frames from one chunk, in order", () => {
    expect(summary(new AnetDecoder(options).push(stream))).toEqual(expected);
  });

  it("decodes a stream fed one byte at a time", () => {
    const decoder = new AnetDecoder(options);
    const frames: AnetFrame[] = [];
    for (let i = 0; i < stream.length; i++) frames.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(summary(frames)).toEqual(expected);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("decodes the same frames whatever offset the stream is split at", () => {
    for (let at = 0; at <= stream.length; at++) {
      const decoder = new AnetDecoder(options);
      const frames = [...decoder.push(stream.subarray(0, at)), ...decoder.push(stream.subarray(at))];
      expect(summary(frames), `split at ${at}`).toEqual(expected);
    }
  });

  it("hands out a body wholly inside one chunk as a view of it", () => {
    const chunk = Buffer.from(new ArrayBuffer(stream.length));
    chunk.set(stream);
    const [first] = new AnetDecoder(options).push(chunk);
    expect(first!.body.buffer).toBe(chunk.buffer);
    expect(first!.body.byteOffset).toBe(chunk.byteOffset + lengthSize + 4);
  });

  it("reads a length of exactly 4 as a task id with an empty body", () => {
    const prefix = Buffer.alloc(lengthSize);
    prefix.writeUIntBE(4, 0, lengthSize);
    const frames = new AnetDecoder(options).push(Buffer.concat([prefix, Buffer.from("0000002a", "hex")]));
    expect(summary(frames)).toEqual([[42, ""]]);
  });

  it.each([0, 1, 3])("refuses a length of %d with InvalidMsgLengthError as soon as the prefix is read, and stays failed", (length) => {
    const prefix = Buffer.alloc(lengthSize);
    prefix.writeUIntBE(length, 0, lengthSize);
    const decoder = new AnetDecoder(options);
    expect(() => decoder.push(Buffer.concat([prefix, Buffer.alloc(10)]))).toThrow(InvalidMsgLengthError);
    expect(decoder.bufferedBytes).toBe(0);
    // once failed, a valid stream is refused with that same error
    const later = () => decoder.push(stream);
    expect(later).toThrow(invalidLength);
    expect(later).toThrow(AnetError);
    expect(later).toThrow(SwitchyardError);
  });

  it("encodes the body uncopied after a head of length and task id", () => {
    const body = new Uint8Array([1, 2, 3]);
    const [head, view] = encodeAnetFrame(9, body, options);
    expect(head).toHaveLength(lengthSize + 4);
    expect(head!.readUIntBE(0, lengthSize)).toBe(7);
    expect(view!.buffer).toBe(body.buffer);
  });

  it("honours a maxBodyBytes option when encoding and decoding", () => {
    const limited = { lengthSize, maxBodyBytes: 10 };
    expect(summary(new AnetDecoder(limited).push(wire(3, Buffer.alloc(10, 1), limited)))).toEqual([[3, "01".repeat(10)]]);
    expect(() => encodeAnetFrame(3, Buffer.alloc(11), limited)).toThrow(MaxLenExceededError);

    const decoder = new AnetDecoder(limited);
    const tooLong = wire(3, Buffer.alloc(11), options);
    expect(() => decoder.push(tooLong.subarray(0, lengthSize))).toThrow(maxLen);
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe("anet length limits", () => {
  it("accepts the largest 2-byte length, 65 535: a body of 65 531 bytes, in one chunk or trickled", () => {
    expect(MAX_ANET_BODY_U16).toBe(65_531);
    const body = Buffer.alloc(65_531, 0x33);
    const bytes = wire(5, body);
    expect(bytes.subarray(0, 2).toString("hex")).toBe("ffff");
    expect(new AnetDecoder().push(bytes)[0]!.body.equals(body)).toBe(true);

    const decoder = new AnetDecoder();
    expect(decoder.push(bytes.subarray(0, 3))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(3); // what arrived, not the 65 537 declared
    expect(decoder.push(bytes.subarray(3))[0]!.body.equals(body)).toBe(true);
  });

  it("refuses to encode a 65 532-byte body with the 2-byte prefix (MAX_LEN_EXCEEDED)", () => {
    const encode = () => encodeAnetFrame(5, Buffer.alloc(65_532));
    expect(encode).toThrow(MaxLenExceededError);
    expect(encode).toThrow(maxLen);
  });

  it("caps maxBodyBytes at what the 2-byte length field can say", () => {
    expect(maxAnetBody({ lengthSize: 2, maxBodyBytes: 1_000_000 })).toBe(MAX_ANET_BODY_U16);
    expect(() => encodeAnetFrame(5, Buffer.alloc(65_532), { maxBodyBytes: 1_000_000 })).toThrow(maxLen);
  });

  it("round-trips a 1 MiB body with the 4-byte prefix, split across chunks", () => {
    const options = { lengthSize: 4 } as const;
    const body = Buffer.alloc(1_048_576);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const bytes = wire(77, body, options);
    expect(bytes.readUInt32BE(0)).toBe(1_048_576 + 4);
    const decoder = new AnetDecoder(options);
    const frames = [...decoder.push(bytes.subarray(0, 5000)), ...decoder.push(bytes.subarray(5000, 600_000)), ...decoder.push(bytes.subarray(600_000))];
    expect(frames).toHaveLength(1);
    expect(frames[0]!.taskId).toBe(77);
    expect(frames[0]!.body.equals(body)).toBe(true);
  });

  it("reads the rest of a large body straight into its own buffer (payloadRoom/filled), the frame as push() makes it", () => {
    const options = { lengthSize: 4 } as const;
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 253;
    const bytes = wire(9, body, options);
    const decoder = new AnetDecoder(options);
    expect(decoder.push(bytes.subarray(0, 1000))).toEqual([]);
    let at = 1000;
    let frames: AnetFrame[] = [];
    while (at < bytes.length) {
      const room = decoder.payloadRoom(1);
      expect(room).not.toBeNull();
      const n = Math.min(room!.length, 70_000, bytes.length - at);
      bytes.copy(room!, 0, at, at + n);
      at += n;
      frames = decoder.filled(n);
    }
    expect(frames).toHaveLength(1);
    expect(frames[0]!.taskId).toBe(9);
    expect(frames[0]!.body.equals(body)).toBe(true);
    expect(decoder.payloadRoom(1)).toBeNull(); // nothing in progress
  });

  it("refuses a 4-byte length over the default 16 MiB limit as soon as the prefix is read", () => {
    const decoder = new AnetDecoder({ lengthSize: 4 });
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(DEFAULT_MAX_ANET_BODY_U32 + 5, 0);
    expect(() => decoder.push(prefix)).toThrow(maxLen);
    expect(decoder.bufferedBytes).toBe(0);
  });
});
