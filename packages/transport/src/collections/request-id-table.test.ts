import { randomBytes } from "node:crypto";
import { readWord } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { hashRequestId, type IdKeyed, RequestIdTable } from "./request-id-table.js";

interface Item extends IdKeyed {
  id: Buffer;
}

/** An item whose hash is forced to `hash`, to make probe runs collide at will. */
function item(id: Buffer, hash = hashRequestId(id)): Item {
  return { id, id0: readWord(id, 0), id1: readWord(id, 4), id2: readWord(id, 8), id3: readWord(id, 12), idHash: hash };
}

describe("hashRequestId", () => {
  it("gives ids that differ in one word different hashes", () => {
    const id = randomBytes(16);
    for (let byte = 0; byte < 16; byte++) {
      const other = Buffer.from(id);
      other[byte]! ^= 1 << byte % 8;
      expect(hashRequestId(other)).not.toBe(hashRequestId(id));
    }
  });
});

describe("RequestIdTable", () => {
  it("finds what it holds by the id's bytes and nothing else", () => {
    const table = new RequestIdTable<Item>();
    const items = Array.from({ length: 100 }, () => item(randomBytes(16)));
    for (const x of items) table.add(x);
    expect(table.size).toBe(100);
    for (const x of items) expect(table.find(Buffer.from(x.id), hashRequestId(x.id))).toBe(x);
    const unknown = randomBytes(16);
    expect(table.find(unknown, hashRequestId(unknown))).toBeUndefined();
  });

  it("tells apart ids that share a hash", () => {
    const table = new RequestIdTable<Item>();
    const a = item(Buffer.alloc(16, 1), 7);
    const b = item(Buffer.alloc(16, 2), 7);
    table.add(a);
    table.add(b);
    expect(table.find(a.id, 7)).toBe(a);
    expect(table.find(b.id, 7)).toBe(b);
    expect(table.find(Buffer.alloc(16, 3), 7)).toBeUndefined();
  });

  it("keeps every item findable through adds and deletes when hashes collide, wrap around and the table resizes", () => {
    const table = new RequestIdTable<Item>();
    const reference = new Map<string, Item>();
    let seed = 1;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0;
      return (seed >>> 8) / 2 ** 24;
    };
    // Few distinct hashes, their top bits at the end of the table, so runs are long and wrap.
    const hashes = [-1, -2, 0x7fff_ffff, 0, 1 << 31];
    for (let step = 0; step < 5000; step++) {
      const keys = [...reference.keys()];
      if (keys.length > 0 && random() < (step < 2500 ? 0.4 : 0.7)) {
        const key = keys[Math.floor(random() * keys.length)]!;
        table.delete(reference.get(key)!);
        reference.delete(key);
      } else {
        const x = item(randomBytes(16), hashes[Math.floor(random() * hashes.length)]!);
        table.add(x);
        reference.set(x.id.toString("hex"), x);
      }
      expect(table.size).toBe(reference.size);
    }
    for (const x of reference.values()) expect(table.find(x.id, x.idHash)).toBe(x);
    expect(new Set(table.values())).toEqual(new Set(reference.values()));
  });

  it("ignores a delete of an item it does not hold, and lets items be deleted while walking a snapshot", () => {
    const table = new RequestIdTable<Item>();
    table.delete(item(randomBytes(16)));
    const items = Array.from({ length: 40 }, () => item(randomBytes(16)));
    for (const x of items) table.add(x);
    table.delete(item(randomBytes(16)));
    expect(table.size).toBe(40);
    for (const x of table.values()) table.delete(x);
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
    for (const x of items) expect(table.find(x.id, x.idHash)).toBeUndefined();
  });
});

describe("RequestIdTable memory", () => {
  /** Adds `count` new items; returns them. */
  function fill(table: RequestIdTable<Item>, count: number): Item[] {
    const items = Array.from({ length: count }, () => item(randomBytes(16)));
    for (const x of items) table.add(x);
    return items;
  }

  it("gives back the slots of a burst once it has stayed sparse for as many deletes as it has slots", () => {
    const table = new RequestIdTable<Item>();
    const burst = fill(table, 1000);
    expect(table.capacity).toBe(2048);
    for (const x of burst.slice(4)) table.delete(x);
    expect(table.capacity).toBe(2048);
    for (let i = 0; i < 2048; i++) table.delete(fill(table, 1)[0]!);
    expect(table.capacity).toBe(16);
    for (const x of burst.slice(0, 4)) expect(table.find(x.id, x.idHash)).toBe(x);
  });

  it("keeps its slots while a pipelining consumer's count swings between empty and full", () => {
    const table = new RequestIdTable<Item>();
    for (let round = 0; round < 40; round++) for (const x of fill(table, 256)) table.delete(x);
    expect(table.capacity).toBe(512);
  });
});

// Moved from the IdIndex tests: RequestIdTable is now the RequestTable index itself.
describe("RequestIdTable as a RequestTable index", () => {
  it("finds an item by any view holding the same 16 bytes, and refuses a second item with the same id", () => {
    const table = new RequestIdTable<Item>();
    const a = item(Buffer.alloc(16, 1));
    expect(table.add(a)).toBe(true);
    const framed = Buffer.concat([Buffer.from([7, 7, 7]), Buffer.from(a.id)]).subarray(3);
    expect(table.find(framed)).toBe(a);
    expect(table.find(new Uint8Array(framed))).toBe(a);
    expect(table.find(Buffer.alloc(16, 9))).toBeUndefined();
    expect(table.add(item(Buffer.from(framed)))).toBe(false);
    expect(table.size).toBe(1);
    expect(table.find(a.id)).toBe(a);
  });

  it("keeps ids whose hashes collide apart, through every order of adds and deletes", () => {
    const table = new RequestIdTable<Item>(() => 0);
    const items = [1, 2, 3, 4].map((fill) => item(Buffer.alloc(16, fill), 0));
    for (const entry of items) expect(table.add(entry)).toBe(true);
    for (const entry of items) expect(table.add(item(Buffer.from(entry.id), 0))).toBe(false);
    expect(table.size).toBe(4);
    for (const entry of items) expect(table.find(Buffer.from(entry.id))).toBe(entry);
    expect(table.delete(items[0]!)).toBe(true);
    expect(table.delete(items[0]!)).toBe(false);
    expect(table.find(items[0]!.id)).toBeUndefined();
    // Its probe run changed, but the third is still held: it cannot be added twice.
    expect(table.add(item(Buffer.from(items[2]!.id), 0))).toBe(false);
    expect(table.find(items[2]!.id)).toBe(items[2]);
    expect(new Set(table.values())).toEqual(new Set(items.slice(1)));
    for (const entry of items.slice(1)) expect(table.delete(entry)).toBe(true);
    expect(table.size).toBe(0);
  });

  it("deletes only the item named, not another with the same id", () => {
    const table = new RequestIdTable<Item>();
    const first = item(Buffer.alloc(16, 5));
    table.add(first);
    expect(table.delete(item(Buffer.alloc(16, 5)))).toBe(false);
    expect(table.delete(first)).toBe(true);
    expect(table.size).toBe(0);
  });
});
