import { ID_SIZE, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { type Issued, RequestIds } from "./request-ids.js";

interface Request extends Issued {
  name: string;
}

function request(name: string): Request {
  return { name, slot: -1, generation: 0 };
}

/** Issues an id to a request and holds it, as a RequestTable would. */
function hold(ids: RequestIds<Request>, name: string): Request {
  const item = request(name);
  expect(ids.add(item)).toBe(true);
  return item;
}

describe("RequestIds", () => {
  it("issues distinct ids that start with the prefix and find their request back", () => {
    const prefix = newId();
    const ids = new RequestIds<Request>(prefix);
    const seen = new Set<string>();
    const held: Request[] = [];
    for (let i = 0; i < 100; i++) {
      const item = hold(ids, `r${i}`);
      const bytes = Buffer.from(ids.bytes(item));
      expect(bytes.length).toBe(ID_SIZE);
      expect(bytes.subarray(0, 4)).toEqual(prefix.subarray(0, 4));
      seen.add(bytes.toString("hex"));
      held.push(item);
    }
    expect(seen.size).toBe(100);
    expect(ids.size).toBe(100);
    for (const item of held) expect(ids.find(Buffer.from(ids.bytes(item)))).toBe(item);
  });

  it("reuses a freed slot, and the old id no longer finds anything", () => {
    const ids = new RequestIds<Request>(newId());
    const first = hold(ids, "first");
    const oldId = Buffer.from(ids.bytes(first));
    expect(ids.delete({ ...request("other"), slot: first.slot, generation: first.generation })).toBe(false);
    expect(ids.delete(first)).toBe(true);
    expect(ids.delete(first)).toBe(false);
    expect(ids.find(oldId)).toBeUndefined();
    const second = hold(ids, "second");
    expect(second.slot).toBe(first.slot);
    expect(second.generation).toBeGreaterThan(first.generation);
    expect(ids.find(oldId)).toBeUndefined();
    expect(ids.find(Buffer.from(ids.bytes(second)))).toBe(second);
    expect([...ids.values()]).toEqual([second]);
  });

  it("writes generations beyond 32 bits, and finds ids wherever they sit in a larger buffer", () => {
    const ids = new RequestIds<Request>(newId());
    const item = hold(ids, "big");
    item.generation = 2 ** 40 + 12345;
    const framed = Buffer.concat([Buffer.from([9, 9, 9]), ids.bytes(item)]).subarray(3);
    expect(framed.readUInt32BE(8) * 2 ** 32 + framed.readUInt32BE(12)).toBe(2 ** 40 + 12345);
    expect(ids.find(framed)).toBe(item);
  });

  it("finds nothing for an id another prefix issued, one of the wrong size, or an unknown slot", () => {
    const ours = new RequestIds<Request>(Buffer.alloc(4, 1));
    const theirs = new RequestIds<Request>(Buffer.alloc(4, 2));
    const mine = hold(ours, "mine");
    const other = hold(theirs, "other");
    expect(ours.find(Buffer.from(theirs.bytes(other)))).toBeUndefined();
    expect(ours.find(Buffer.from(ours.bytes(mine)).subarray(0, 12))).toBeUndefined();
    const stray = Buffer.from(ours.bytes(mine));
    stray.writeUInt32BE(7, 4);
    expect(ours.find(stray)).toBeUndefined();
  });

  it("refuses a prefix shorter than 4 bytes", () => {
    expect(() => new RequestIds(Buffer.alloc(3))).toThrow(/4 bytes/);
  });
});
