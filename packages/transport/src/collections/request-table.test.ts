import { newId, readWord } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hashRequestId, type IdKeyed, RequestIdTable } from "./request-id-table.js";
import { type Issued, RequestIds } from "./request-ids.js";
import { RequestTable, type TableItem } from "./request-table.js";

/** A table item we issue the id of, with a name for readable assertions. */
interface Named extends TableItem, Issued {
  name: string;
}

function item(name: string): Named {
  return { name, slot: -1, generation: 0, deadline: null };
}

function names(items: Named[]): string[] {
  return items.map((entry) => entry.name);
}

/** A table over RequestIds, as a consumer's; `onExpire` when given. */
function issuing(onExpire?: (entry: Named) => void): { table: RequestTable<Named>; ids: RequestIds<Named> } {
  const ids = new RequestIds<Named>(newId());
  return { table: new RequestTable<Named>(onExpire === undefined ? { index: ids } : { index: ids, onExpire }), ids };
}

/** A table item keyed by an id someone else chose. */
interface Keyed extends TableItem, IdKeyed {
  name: string;
  id: Buffer;
}

function keyed(name: string, id: Buffer): Keyed {
  return { name, deadline: null, id, id0: readWord(id, 0), id1: readWord(id, 4), id2: readWord(id, 8), id3: readWord(id, 12), idHash: hashRequestId(id) };
}

describe("RequestTable", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets only the first of several settlers remove an entry (settle once)", () => {
    const { table } = issuing();
    const request = item("request");
    table.add(request);
    const outcomes = [table.delete(request), table.delete(request), table.delete(request)];
    expect(outcomes).toEqual([true, false, false]);
    expect(table.size).toBe(0);
  });

  it("does not remove an entry that is not the item named", () => {
    const { table, ids } = issuing();
    const fresh = item("new");
    table.add(fresh);
    const old = { ...item("old"), slot: fresh.slot, generation: fresh.generation };
    expect(table.delete(old)).toBe(false);
    expect(table.get(ids.bytes(fresh))).toBe(fresh);
  });

  it("refuses an id already in flight", () => {
    const table = new RequestTable<Keyed>({ index: new RequestIdTable<Keyed>() });
    const first = keyed("a", Buffer.alloc(16, 7));
    expect(table.add(first)).toBe(true);
    expect(table.add(keyed("b", Buffer.alloc(16, 7)))).toBe(false);
    expect(table.get(Buffer.alloc(16, 7))).toBe(first);
  });

  it("expires an entry at its deadline, and never one deleted before", () => {
    const expired: string[] = [];
    const { table } = issuing((entry) => {
      expired.push(entry.name);
      table.delete(entry);
    });
    const answered = item("answered");
    table.add(item("slow"), 100);
    table.add(answered, 100);
    table.add(item("forever"));
    table.delete(answered);
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["slow"]);
    vi.advanceTimersByTime(1_000_000);
    expect(expired).toEqual(["slow"]);
    expect(names(table.values())).toEqual(["forever"]);
  });

  it("refuses a deadline when it was made without onExpire", () => {
    const { table } = issuing();
    expect(() => table.add(item("k"), 100)).toThrow(/onExpire/);
    expect(table.size).toBe(0);
  });

  it("whenEmpty resolves once the last entry leaves", async () => {
    const { table } = issuing();
    await table.whenEmpty();
    const a = item("a");
    const b = item("b");
    table.add(a);
    table.add(b);
    let empty = false;
    const waiting = table.whenEmpty().then(() => {
      empty = true;
    });
    table.delete(a);
    await Promise.resolve();
    expect(empty).toBe(false);
    table.delete(b);
    await waiting;
    expect(empty).toBe(true);
  });

  it("forgets an entry's deadline once it is deleted, so a later entry in the same slot keeps its own", () => {
    const expired: string[] = [];
    const { table } = issuing((entry) => {
      expired.push(entry.name);
      table.delete(entry);
    });
    const early = item("early");
    table.add(early, 50);
    table.delete(early);
    expect(early.deadline).toBeNull();
    const late = item("late");
    table.add(late, 200);
    expect(late.slot).toBe(early.slot);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["late"]);
    expect(table.size).toBe(0);
  });

  it("finds items by a requestId someone else chose through a RequestIdTable, deadlines included", () => {
    const expired: string[] = [];
    const table = new RequestTable<Keyed>({
      onExpire: (entry) => {
        expired.push(entry.name);
        table.delete(entry);
      },
      index: new RequestIdTable<Keyed>(),
    });
    const a = keyed("a", Buffer.alloc(16, 1));
    const b = keyed("b", Buffer.alloc(16, 2));
    table.add(a, 100);
    table.add(b);
    expect(table.add(keyed("again", Buffer.alloc(16, 1)))).toBe(false);
    const framed = Buffer.concat([Buffer.from([9]), Buffer.alloc(16, 2)]).subarray(1);
    expect(table.get(framed)).toBe(b);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["a"]);
    expect(table.delete(b)).toBe(true);
    expect(table.size).toBe(0);
  });
});
