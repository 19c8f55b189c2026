import { describe, expect, it } from "vitest";
import { ID_SIZE, idToBytes, idToString, InvalidArgumentError, newId, newIdString, SwitchyardError } from "./index.js";

describe("ids", () => {
  it("turns a UUID string into its 16 wire bytes and back", () => {
    const bytes = idToBytes("00112233-4455-6677-8899-aabbccddeeff");
    expect(bytes.toString("hex")).toBe("00112233445566778899aabbccddeeff");
    expect(idToString(bytes)).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  it("accepts upper case and answers in the canonical lower case", () => {
    expect(idToString(idToBytes("9B2C6F0E-4A53-4C1E-8F0A-3F1F6C2D7E11"))).toBe("9b2c6f0e-4a53-4c1e-8f0a-3f1f6c2d7e11");
  });

  it("reads the 16 bytes of a view at a non-zero offset, and any bytes at all", () => {
    const frame = Buffer.from("ffff" + "fedcba9876543210fedcba9876543210" + "ffff", "hex");
    expect(idToString(frame.subarray(2, 18))).toBe("fedcba98-7654-3210-fedc-ba9876543210");
  });

  it("round-trips fresh random ids in both forms", () => {
    for (let i = 0; i < 50; i++) {
      const text = newIdString();
      expect(idToString(idToBytes(text))).toBe(text);
      const bytes = newId();
      expect(bytes).toHaveLength(ID_SIZE);
      expect(idToBytes(idToString(bytes))).toEqual(bytes);
    }
  });

  it.each(["", "not-a-uuid", "00112233445566778899aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeff0", "0011223g-4455-6677-8899-aabbccddeeff", 42])(
    "refuses %j with InvalidArgumentError(INVALID_ARGUMENT) naming the argument",
    (id) => {
      const call = () => idToBytes(id as string, "channelId");
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(SwitchyardError);
      expect(call).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("channelId") }));
    },
  );
});
