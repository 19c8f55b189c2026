import { describe, expect, it } from "vitest";
import { IdMap } from "./id-map.js";

interface Held {
  id: Uint8Array;
  name: string;
}

function held(name: string, fill: number): Held {
  const id = Buffer.alloc(16, fill);
  id[15] = name.length;
  return { id, name };
}

describe("IdMap", () => {
  it("finds an item by any view holding the same 16 bytes, and not by another id", () => {
    const map = new IdMap((entry: Held) => entry.id);
    const a = held("a", 1);
    map.set(a.id, a);
    const framed = Buffer.concat([Buffer.from([7, 7, 7]), Buffer.from(a.id)]).subarray(3);
    expect(map.get(framed)).toBe(a);
    expect(map.get(new Uint8Array(framed))).toBe(a);
    expect(map.has(Buffer.alloc(16, 9))).toBe(false);
    expect(map.get(Buffer.alloc(16))).toBeUndefined();
  });

  it("keeps ids whose hashes collide apart, through every order of adds and deletes", () => {
    const map = new IdMap((entry: Held) => entry.id, () => 0);
    const items = ["a", "bb", "ccc", "dddd"].map((name, i) => held(name, i + 1));
    for (const entry of items) map.set(entry.id, entry);
    expect(map.size).toBe(4);
    for (const entry of items) expect(map.get(Buffer.from(entry.id))).toBe(entry);
    expect(map.delete(items[0]!.id)).toBe(true);
    expect(map.delete(items[0]!.id)).toBe(false);
    expect(map.get(items[0]!.id)).toBeUndefined();
    expect(map.get(items[2]!.id)).toBe(items[2]);
    // The hash is free again: an id from overflow filed anew takes it, and stays in one place.
    const replacement = { ...items[2]!, name: "ccc again" };
    map.set(items[2]!.id, replacement);
    expect(map.get(items[2]!.id)).toBe(replacement);
    expect(map.size).toBe(3);
    expect([...map.values()].map((entry) => entry.name).sort()).toEqual(["bb", "ccc again", "dddd"]);
    for (const entry of items.slice(1)) expect(map.delete(entry.id)).toBe(true);
    expect(map.size).toBe(0);
  });

  it("replaces the item filed under the same id", () => {
    const map = new IdMap((entry: Held) => entry.id);
    const first = held("first", 5);
    const second = { ...first, name: "second" };
    map.set(first.id, first);
    map.set(Buffer.from(first.id), second);
    expect(map.size).toBe(1);
    expect(map.get(first.id)).toBe(second);
  });
});
