import { ID_SIZE, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { RequestIds } from "./request-ids.js";

describe("RequestIds", () => {
  it("issues distinct non-zero numbers whose 16 bytes start with the prefix and parse back", () => {
    const prefix = newId();
    const ids = new RequestIds(prefix);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const seq = ids.next();
      expect(seq).toBeGreaterThan(0);
      const bytes = Buffer.from(ids.bytes(seq));
      expect(bytes.length).toBe(ID_SIZE);
      expect(bytes.subarray(0, 8)).toEqual(prefix.subarray(0, 8));
      expect(ids.parse(bytes)).toBe(seq);
      seen.add(bytes.toString("hex"));
    }
    expect(seen.size).toBe(1000);
  });

  it("round-trips numbers beyond 32 bits, wherever the id sits in a larger buffer", () => {
    const ids = new RequestIds(newId());
    const seq = 2 ** 40 + 12345;
    const framed = Buffer.concat([Buffer.from([9, 9, 9]), ids.bytes(seq)]).subarray(3);
    expect(ids.parse(framed)).toBe(seq);
  });

  it("answers 0 for an id another prefix issued, or one of the wrong size", () => {
    const ours = new RequestIds(Buffer.alloc(8, 1));
    const theirs = new RequestIds(Buffer.alloc(8, 2));
    expect(ours.parse(Buffer.from(theirs.bytes(theirs.next())))).toBe(0);
    expect(ours.parse(Buffer.alloc(12, 1))).toBe(0);
  });

  it("refuses a prefix shorter than 8 bytes", () => {
    expect(() => new RequestIds(Buffer.alloc(7))).toThrow(/8 bytes/);
  });
});
