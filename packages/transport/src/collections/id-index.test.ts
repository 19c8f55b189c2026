import { readWord } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { IdIndex } from "./id-index.js";
import { hashRequestId, type IdKeyed } from "./request-id-table.js";

interface Held extends IdKeyed {
  id: Uint8Array;
  name: string;
}

function held(name: string, fill: number, hash: (id: Uint8Array) => number = hashRequestId): Held {
  const id = Buffer.alloc(16, fill);
  id[15] = name.length;
  return { id, name, id0: readWord(id, 0), id1: readWord(id, 4), id2: readWord(id, 8), id3: readWord(id, 12), idHash: hash(id) };
}

describe("IdIndex", () => {
  it("finds an item by any view holding the same 16 bytes, and not by another id", () => {
    const map = new IdIndex<Held>();
    const a = held("a", 1);
    expect(map.add(a.id, a)).toBe(true);
    const framed = Buffer.concat([Buffer.from([7, 7, 7]), Buffer.from(a.id)]).subarray(3);
    expect(map.get(framed)).toBe(a);
    expect(map.get(new Uint8Array(framed))).toBe(a);
    expect(map.get(Buffer.alloc(16, 9))).toBeUndefined();
    expect(map.add(framed, held("again", 1))).toBe(false);
    expect(map.get(a.id)).toBe(a);
  });

  it("keeps ids whose hashes collide apart, through every order of adds and removes", () => {
    const map = new IdIndex<Held>(() => 0);
    const items = ["a", "bb", "ccc", "dddd"].map((name, i) => held(name, i + 1, () => 0));
    for (const entry of items) expect(map.add(entry.id, entry)).toBe(true);
    for (const entry of items) expect(map.add(Buffer.from(entry.id), held("dup", 0, () => 0))).toBe(false);
    expect(map.size).toBe(4);
    for (const entry of items) expect(map.get(Buffer.from(entry.id))).toBe(entry);
    expect(map.remove(items[0]!.id)).toBe(items[0]);
    expect(map.remove(items[0]!.id)).toBeUndefined();
    expect(map.get(items[0]!.id)).toBeUndefined();
    // Its probe run changed, but "ccc" is still held: it cannot be added twice.
    expect(map.add(items[2]!.id, held("ccc twin", 3, () => 0))).toBe(false);
    expect(map.get(items[2]!.id)).toBe(items[2]);
    expect([...map.values()].map((entry) => entry.name).sort()).toEqual(["bb", "ccc", "dddd"]);
    expect(map.remove(items[1]!.id, items[3])).toBeUndefined();
    for (const entry of items.slice(1)) expect(map.remove(entry.id, entry)).toBe(entry);
    expect(map.size).toBe(0);
  });

  it("removes only the item named, when one is", () => {
    const map = new IdIndex<Held>();
    const first = held("first", 5);
    map.add(first.id, first);
    expect(map.remove(first.id, held("other", 5))).toBeUndefined();
    expect(map.remove(Buffer.from(first.id), first)).toBe(first);
    expect(map.size).toBe(0);
  });
});
