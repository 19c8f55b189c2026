import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BrokerError,
  decodeHeaderBlock,
  encodeHeaderBlock,
  headerBlockLength,
  InvalidArgumentError,
  MAX_HEADER_BLOCK_BYTES,
  MAX_HEADER_ENTRIES,
} from "./index.js";

const hex = (literal: string) => Buffer.from(literal.replace(/\s+/g, ""), "hex");
const badHeaders = expect.objectContaining({ code: "BAD_HEADERS", wireCode: 16 });

/** A lowercase token name: what the protocol carries. */
const name = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,40}$/);
const headerMaps = fc.dictionary(name, fc.string({ unit: "grapheme", maxLength: 60 }), { maxKeys: MAX_HEADER_ENTRIES });

describe("header blocks", () => {
  it("encode as size u16, then name length u8, name, value length u16, value per entry", () => {
    const wire = "0015   0c 636f6e74656e742d74797065 0002 7b7d   01 78 0000";
    expect(encodeHeaderBlock({ "Content-Type": "{}", x: "" }).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeHeaderBlock(hex(`${wire} 6869`), 0)).toEqual({ headers: { "content-type": "{}", x: "" }, length: 23 });
  });

  it("round-trip any map of lowercase token names to text, at any offset, and headerBlockLength agrees", () => {
    fc.assert(
      fc.property(headerMaps, fc.uint8Array({ maxLength: 8 }), (headers, before) => {
        const block = encodeHeaderBlock(headers);
        const payload = Buffer.concat([before, block, Buffer.from("body")]);
        const decoded = decodeHeaderBlock(payload, before.length);
        expect(decoded.length).toBe(block.length);
        expect({ ...decoded.headers }).toEqual(headers);
        expect(headerBlockLength(payload, before.length)).toBe(block.length);
      }),
    );
  });

  it("decode arbitrary bytes to headers or BrokerError(BAD_HEADERS), never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(4), (bytes, offset) => {
        for (const read of [() => decodeHeaderBlock(bytes, offset), () => headerBlockLength(bytes, offset)]) {
          try {
            read();
          } catch (error) {
            expect(error).toBeInstanceOf(BrokerError);
            expect(error).toMatchObject({ code: "BAD_HEADERS" });
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("decode blocks whose structure is sound but whose entries are bad to BAD_HEADERS too", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 8 })), { maxLength: 6 }), (entries) => {
        const body = Buffer.concat(entries.flatMap(([n, v]) => [Buffer.from([n.length]), n, Buffer.from([v.length >> 8, v.length & 0xff]), v]));
        const block = Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
        expect(headerBlockLength(block, 0)).toBe(block.length);
        try {
          decodeHeaderBlock(block, 0);
        } catch (error) {
          expect(error).toMatchObject({ code: "BAD_HEADERS" });
        }
      }),
    );
  });

  it.each([
    ["a missing size", "00"],
    ["a size past the payload", "0005 01 61 0000"],
    ["an empty name", "0003 00 0000"],
    ["a value past its block", "0005 01 61 0005 78"],
    ["a name that is not a lowercase token", "0004 01 41 0000"],
    ["the same name twice", "0008 01 61 0000 01 61 0000"],
    ["a value that is not UTF-8", "0005 01 61 0001 ff"],
  ])("refuse %s with BAD_HEADERS", (_what, wire) => {
    expect(() => decodeHeaderBlock(hex(wire), 0)).toThrow(badHeaders);
  });

  it("refuse more than 64 entries or more than 16 KiB on the wire with BAD_HEADERS, checking bounds only", () => {
    const entries = Buffer.concat(Array.from({ length: 65 }, () => hex("01 61 0000")));
    const tooMany = Buffer.concat([Buffer.from([entries.length >> 8, entries.length & 0xff]), entries]);
    expect(() => headerBlockLength(tooMany, 0)).toThrow(badHeaders);
    const big = Buffer.alloc(MAX_HEADER_BLOCK_BYTES + 1);
    big.writeUInt16BE(MAX_HEADER_BLOCK_BYTES - 1, 0);
    expect(() => headerBlockLength(big, 0)).toThrow(/over the limit of 16384/);
  });

  it("keep a header named __proto__ or constructor as an entry (the map has no prototype)", () => {
    const decoded = decodeHeaderBlock(encodeHeaderBlock(JSON.parse('{"__proto__":"a","constructor":"b"}')), 0).headers;
    expect(Object.getPrototypeOf(decoded)).toBeNull();
    expect(Object.entries(decoded)).toEqual([
      ["__proto__", "a"],
      ["constructor", "b"],
    ]);
  });

  it.each([
    ["65 entries", Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, "v"])), /65 headers exceed the limit of 64/],
    ["17 KiB", { big: "x".repeat(17 * 1024) }, /over the limit of 16384/],
    ["an empty name", { "": "v" }, /must not be empty/],
    ["a name with a space", { "bad name": "v" }, /may hold only letters, digits/],
    ["a name given twice in different cases", { Accept: "a", accept: "b" }, /given twice/],
    ["a value that is not a string", { n: 1 as unknown as string }, /must be a string/],
  ])("refuse %s with InvalidArgumentError before encoding anything", (_what, headers, message) => {
    expect(() => encodeHeaderBlock(headers)).toThrow(InvalidArgumentError);
    expect(() => encodeHeaderBlock(headers)).toThrow(message);
  });

  it("take exactly 64 entries and a block of exactly 16 KiB", () => {
    expect(() => encodeHeaderBlock(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`h${i}`, "v"])))).not.toThrow();
    const fits = { a: "x".repeat(MAX_HEADER_BLOCK_BYTES - 2 - 1 - 1 - 2) };
    expect(encodeHeaderBlock(fits)).toHaveLength(MAX_HEADER_BLOCK_BYTES);
    expect(() => encodeHeaderBlock({ a: `${fits.a}x` })).toThrow(InvalidArgumentError);
  });
});
