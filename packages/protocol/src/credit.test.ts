import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCredit,
  decodeRegistration,
  encodeCredit,
  encodeFrame,
  encodeRegistration,
  FrameDecoder,
  FrameType,
  InvalidArgumentError,
  MAX_WINDOW,
  MIN_STREAM_WINDOW,
  ProtocolError,
  type Registration,
  Role,
} from "./index.js";

describe("CREDIT payloads", () => {
  it("round-trip every increment from 1 to 2^31 - 1, as a frame split at any offset", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_WINDOW }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(27), (increment, id, cut) => {
        const wire = Buffer.concat(encodeFrame(FrameType.CREDIT, 0, id, encodeCredit(increment)));
        const decoder = new FrameDecoder();
        const frames = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
        expect(frames).toHaveLength(1);
        expect(frames[0]!.type).toBe(FrameType.CREDIT);
        expect(decodeCredit(frames[0]!.payload)).toBe(increment);
      }),
    );
  });

  it("decode any 4 bytes to their u32 (0 and values past 2^31 - 1 are the receiver's to judge) and refuse any other length with ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9 }), (bytes) => {
        if (bytes.length === 4) expect(decodeCredit(bytes)).toBe(Buffer.from(bytes).readUInt32BE(0));
        else expect(() => decodeCredit(bytes)).toThrow(ProtocolError);
      }),
    );
    expect(decodeCredit(Buffer.from("ffffffff", "hex"))).toBe(0xffff_ffff);
  });

  it("refuse to encode an increment of 0, a fraction or one past 2^31 - 1 with InvalidArgumentError", () => {
    for (const increment of [0, -1, 1.5, MAX_WINDOW + 1]) expect(() => encodeCredit(increment)).toThrow(InvalidArgumentError);
  });
});

describe("the stream window extension", () => {
  it("round-trips any window in 1 MiB ..= 2^31 - 1 next to the other extensions", () => {
    const clientId = Buffer.alloc(16, 1);
    const channelId = Buffer.alloc(16, 2);
    fc.assert(
      fc.property(fc.integer({ min: MIN_STREAM_WINDOW, max: MAX_WINDOW }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (streamWindow, clientName) => {
        const registration: Registration = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, streamWindow, ...(clientName === undefined ? {} : { clientName }) };
        expect(decodeRegistration(encodeRegistration(registration))).toEqual(registration);
      }),
    );
  });
});
