import { describe, expect, it } from "vitest";
import { startsWithWords, toWords } from "./words.js";

describe("words", () => {
  it("keeps bytes as their big-endian words", () => {
    expect([...toWords(Buffer.from("0102030480000001ffffffff", "hex"))]).toEqual([0x0102_0304, 0x8000_0001 | 0, -1]);
  });

  it("matches bytes that begin with the words' bytes, and nothing that differs in any byte or is shorter", () => {
    const header = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 5) & 0xff));
    const words = toWords(header);
    expect(startsWithWords(Buffer.concat([header, Buffer.from("body")]), words)).toBe(true);
    expect(startsWithWords(header, words)).toBe(true);
    expect(startsWithWords(header.subarray(0, 31), words)).toBe(false);
    for (let i = 0; i < 32; i++) {
      const changed = Buffer.from(header);
      changed[i]! ^= 0x80;
      expect(startsWithWords(changed, words)).toBe(false);
    }
  });
});
