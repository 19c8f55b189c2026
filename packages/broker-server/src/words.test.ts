import { describe, expect, it } from "vitest";
import { readWord, startsWithWords, toWords, writeWord } from "./words.js";

describe("words", () => {
  it("reads and writes big-endian words the way Buffer does", () => {
    for (const word of [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x0102_0304, -2]) {
      const bytes = Buffer.alloc(6);
      writeWord(bytes, 1, word);
      expect(bytes.readUInt32BE(1)).toBe(word >>> 0);
      expect(readWord(bytes, 1)).toBe(bytes.readInt32BE(1));
    }
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
