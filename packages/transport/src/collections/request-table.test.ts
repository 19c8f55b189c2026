import { readWord } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdIndex } from "./id-index.js";
import { hashRequestId, type IdKeyed } from "./request-id-table.js";
import { RequestTable, type TableItem } from "./request-table.js";

/** A table item with a name, for readable assertions. */
interface Named extends TableItem {
  name: string;
}

function item(name: string): Named {
  return { name, deadline: null };
}

function names(items: Named[]): string[] {
  return items.map((entry) => entry.name);
}

describe("RequestTable", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets only the first of several settlers remove an entry (settle once)", () => {
    const table = new RequestTable<string, Named>();
    const request = item("request");
    table.add("k", request);
    const outcomes = [table.delete("k", request), table.delete("k", request), table.delete("k")];
    expect(outcomes).toEqual([true, false, false]);
    expect(table.size).toBe(0);
  });

  it("does not remove an entry that is not the item named", () => {
    const table = new RequestTable<string, Named>();
    const fresh = item("new");
    table.add("k", fresh);
    expect(table.delete("k", item("old"))).toBe(false);
    expect(table.get("k")).toBe(fresh);
  });

  it("refuses a key already in flight", () => {
    const table = new RequestTable<number, Named>();
    const first = item("a");
    expect(table.add(7, first)).toBe(true);
    expect(table.add(7, item("b"))).toBe(false);
    expect(table.get(7)).toBe(first);
  });

  it("expires an entry at its deadline, and never one deleted before", () => {
    const expired: string[] = [];
    const table = new RequestTable<string, Named>({
      onExpire: (entry) => {
        expired.push(entry.name);
        table.delete(entry.name, entry);
      },
    });
    table.add("slow", item("slow"), 100);
    table.add("answered", item("answered"), 100);
    table.add("forever", item("forever"));
    table.delete("answered");
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["slow"]);
    vi.advanceTimersByTime(1_000_000);
    expect(expired).toEqual(["slow"]);
    expect(names(table.values())).toEqual(["forever"]);
  });

  it("refuses a deadline when it was made without onExpire", () => {
    const table = new RequestTable<string, Named>();
    expect(() => table.add("k", item("k"), 100)).toThrow(/onExpire/);
    expect(table.size).toBe(0);
  });

  it("whenEmpty resolves once the last entry leaves", async () => {
    const table = new RequestTable<string, Named>();
    await table.whenEmpty();
    table.add("a", item("a"));
    table.add("b", item("b"));
    let empty = false;
    const waiting = table.whenEmpty().then(() => {
      empty = true;
    });
    table.delete("a");
    await Promise.resolve();
    expect(empty).toBe(false);
    table.delete("b");
    await waiting;
    expect(empty).toBe(true);
  });

  it("forgets an entry's deadline once it is deleted, so a later entry under the same key keeps its own", () => {
    const expired: string[] = [];
    const table = new RequestTable<number, Named>({
      onExpire: (entry) => {
        expired.push(entry.name);
        table.delete(1, entry);
      },
    });
    const early = item("early");
    table.add(1, early, 50);
    table.delete(1, early);
    expect(early.deadline).toBeNull();
    table.add(1, item("late"), 200);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["late"]);
    expect(table.size).toBe(0);
  });

  it("finds items by requestId through an IdIndex, deadlines included", () => {
    interface Request extends Named, IdKeyed {
      id: Buffer;
    }
    const keyed = (name: string, id: Buffer): Request => ({
      ...item(name),
      id,
      id0: readWord(id, 0),
      id1: readWord(id, 4),
      id2: readWord(id, 8),
      id3: readWord(id, 12),
      idHash: hashRequestId(id),
    });
    const expired: string[] = [];
    const table = new RequestTable<Uint8Array, Request>({
      onExpire: (entry) => {
        expired.push(entry.name);
        table.delete(entry.id, entry);
      },
      index: new IdIndex<Request>(),
    });
    const a = keyed("a", Buffer.alloc(16, 1));
    const b = keyed("b", Buffer.alloc(16, 2));
    table.add(a.id, a, 100);
    table.add(b.id, b);
    expect(table.add(Buffer.alloc(16, 1), keyed("again", Buffer.alloc(16, 1)))).toBe(false);
    const framed = Buffer.concat([Buffer.from([9]), Buffer.alloc(16, 2)]).subarray(1);
    expect(table.get(framed)).toBe(b);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["a"]);
    expect(table.delete(framed, b)).toBe(true);
    expect(table.size).toBe(0);
  });
});
