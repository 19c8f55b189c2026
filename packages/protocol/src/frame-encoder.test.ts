import { describe, expect, it } from "vitest";
import { COPY_THRESHOLD, encodeFrame, FrameType, HEADER_SIZE, InvalidArgumentError, MAX_PAYLOAD, readFrameLength, writeFrameHeader } from "./index.js";

const id = Buffer.from("00112233445566778899aabbccddeeff", "hex");

describe("encodeFrame", () => {
  it("copies a payload of up to COPY_THRESHOLD bytes behind its header into one buffer", () => {
    const body = Buffer.alloc(COPY_THRESHOLD, 0xab);
    const out = encodeFrame(FrameType.CHUNK, 0, id, body);
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(HEADER_SIZE + COPY_THRESHOLD);
    expect(readFrameLength(out[0]!, 0)).toBe(COPY_THRESHOLD);
    body.fill(0); // a copy does not see later changes to the caller's buffer
    expect(out[0]!.subarray(HEADER_SIZE).every((b) => b === 0xab)).toBe(true);
  });

  it("joins several small payload parts in order into that one buffer", () => {
    const out = encodeFrame(FrameType.RESPONSE, 0, id, Buffer.from("ab"), new Uint8Array([0x63]), Buffer.alloc(0), Buffer.from("de"));
    expect(out).toHaveLength(1);
    expect(readFrameLength(out[0]!, 0)).toBe(5);
    expect(out[0]!.subarray(HEADER_SIZE).toString()).toBe("abcde");
  });

  it("returns a payload over COPY_THRESHOLD uncopied, after a header of its own", () => {
    const body = Buffer.alloc(COPY_THRESHOLD + 1, 1);
    const [header, payload, ...rest] = encodeFrame(FrameType.CHUNK, 0, id, body);
    expect(rest).toEqual([]);
    expect(header!.length).toBe(HEADER_SIZE);
    expect(readFrameLength(header!, 0)).toBe(COPY_THRESHOLD + 1);
    expect(payload).toBe(body);
  });

  it("returns each part of a large payload as a view of the caller's memory, header counting them all", () => {
    const head = new Uint8Array(32).fill(2);
    const body = new Uint8Array(COPY_THRESHOLD).fill(3);
    const [header, ...parts] = encodeFrame(FrameType.RESPONSE_START, 0, id, head, body);
    expect(readFrameLength(header!, 0)).toBe(32 + COPY_THRESHOLD);
    expect(parts.map((p) => [Buffer.isBuffer(p), p.buffer === head.buffer || p.buffer === body.buffer, p.length])).toEqual([
      [true, true, 32],
      [true, true, COPY_THRESHOLD],
    ]);
  });

  it("accepts a payload of exactly MAX_PAYLOAD bytes", () => {
    const [header] = encodeFrame(FrameType.CHUNK, 0, id, Buffer.alloc(MAX_PAYLOAD));
    expect(header!.readUInt32BE(20)).toBe(MAX_PAYLOAD);
  });

  it("refuses a payload of MAX_PAYLOAD + 1 bytes, whole or in parts, with InvalidArgumentError (the caller's mistake)", () => {
    expect(() => encodeFrame(FrameType.CHUNK, 0, id, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(InvalidArgumentError);
    expect(() => encodeFrame(FrameType.CHUNK, 0, id, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => encodeFrame(FrameType.CHUNK, 0, id, Buffer.alloc(MAX_PAYLOAD), Buffer.alloc(1))).toThrow(InvalidArgumentError);
  });

  it("refuses a requestId that is not 16 bytes with InvalidArgumentError", () => {
    expect(() => encodeFrame(FrameType.END, 0, id.subarray(1))).toThrow(InvalidArgumentError);
  });
});

describe("writeFrameHeader", () => {
  it("writes the header at the given offset and accepts a length of exactly MAX_PAYLOAD", () => {
    const target = Buffer.alloc(HEADER_SIZE + 3);
    writeFrameHeader(target, 3, FrameType.PING, 0x0102, id, MAX_PAYLOAD);
    expect(target.toString("hex")).toBe("000000" + "01" + "0a" + "0102" + "00112233445566778899aabbccddeeff" + "00100000");
    expect(readFrameLength(target, 3)).toBe(MAX_PAYLOAD);
  });

  it.each([MAX_PAYLOAD + 1, -1, Number.NaN])("refuses a length of %d with INVALID_ARGUMENT, writing nothing", (length) => {
    const target = Buffer.alloc(HEADER_SIZE);
    const write = () => writeFrameHeader(target, 0, FrameType.CHUNK, 0, id, length);
    expect(write).toThrow(InvalidArgumentError);
    expect(write).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(target.equals(Buffer.alloc(HEADER_SIZE))).toBe(true);
  });
});
