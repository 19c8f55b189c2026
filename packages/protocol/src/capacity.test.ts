import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCapacity, encodeCapacity, encodeFrame, FrameDecoder, FrameType, InvalidArgumentError, MAX_CAPACITY, ProtocolError } from "./index.js";

const CONNECTION_ID = new Uint8Array(16);

describe("CAPACITY payloads", () => {
  it("round-trip every capacity from 0 to 2^32 - 1, as a frame split at any offset", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_CAPACITY }), fc.nat(27), (capacity, cut) => {
        const wire = Buffer.concat(encodeFrame(FrameType.CAPACITY, 0, CONNECTION_ID, encodeCapacity(capacity)));
        const decoder = new FrameDecoder();
        const frames = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
        expect(frames).toHaveLength(1);
        expect(frames[0]!.type).toBe(FrameType.CAPACITY);
        expect(decodeCapacity(frames[0]!.payload)).toBe(capacity);
      }),
    );
  });

  it("decode any 4 bytes, at any offset of a larger buffer, to their u32 and refuse any other length with ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9 }), fc.nat(8), (bytes, at) => {
        const view = Buffer.concat([Buffer.alloc(at, 0xee), bytes]).subarray(at);
        if (bytes.length === 4) expect(decodeCapacity(view)).toBe(Buffer.from(bytes).readUInt32BE(0));
        else expect(() => decodeCapacity(view)).toThrow(ProtocolError);
      }),
    );
    expect(decodeCapacity(Buffer.from("ffffffff", "hex"))).toBe(MAX_CAPACITY);
  });

  it("refuse to encode a negative capacity, a fraction or one past 2^32 - 1 with InvalidArgumentError", () => {
    for (const capacity of [-1, 1.5, MAX_CAPACITY + 1, Number.NaN]) expect(() => encodeCapacity(capacity)).toThrow(InvalidArgumentError);
  });
});
