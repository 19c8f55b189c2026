import { describe, expect, it } from "vitest";
import { MAX_TASK_TABLE_CAPACITY, TaskTable } from "./task-table.js";

describe("TaskTable", () => {
  it("gives each entry held at once its own u32 task id, and finds it by that id", () => {
    const table = new TaskTable<string>(256);
    const ids = Array.from({ length: 256 }, (_, i) => table.add(`request ${i}`));
    expect(new Set(ids).size).toBe(256);
    for (const id of ids) expect(id >>> 0).toBe(id);
    for (const [i, id] of ids.entries()) expect(table.get(id)).toBe(`request ${i}`);
    expect(table.size).toBe(256);
  });

  it("does not find an id it never gave, nor one already deleted, even when its slot is in use again", () => {
    const table = new TaskTable<string>(4);
    const first = table.add("first");
    expect(table.delete(first)).toBe(true);
    expect(table.get(first)).toBeUndefined();
    expect(table.delete(first)).toBe(false);
    const second = table.add("second");
    expect(second).not.toBe(first);
    expect(table.get(first)).toBeUndefined();
    expect(table.get(second)).toBe("second");
    expect(table.get((second + 1000) >>> 0)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it("keeps ids unique among the entries held while one slot is reused past 2³² / capacity uses (its count wraps)", () => {
    const table = new TaskTable<number>(2 ** 20);
    const held = table.add(-1);
    const seen = new Set<number>();
    // 4 096 uses of one slot wrap its 12-bit use count once.
    for (let i = 0; i < 5000; i++) {
      const id = table.add(i);
      expect(id).not.toBe(held);
      seen.add(id);
      table.delete(id);
    }
    expect(seen.size).toBe(4096);
    expect(table.get(held)).toBe(-1);
  });

  it("lists what it holds as a snapshot, and clear() frees every slot", () => {
    const table = new TaskTable<string>(8);
    const a = table.add("a");
    table.add("b");
    table.delete(a);
    expect(table.values()).toEqual(["b"]);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
    expect(new Set(Array.from({ length: 8 }, (_, i) => table.add(String(i)))).size).toBe(8);
  });

  it("refuses to hold more than its capacity rounded up to a power of two", () => {
    const table = new TaskTable<number>(3);
    for (let i = 0; i < 4; i++) table.add(i);
    expect(() => table.add(4)).toThrow(RangeError);
  });

  it("sizes ids for at most 2²⁴ entries whatever capacity it is given", () => {
    const table = new TaskTable<number>(Number.POSITIVE_INFINITY);
    const id = table.add(1);
    expect(id & (MAX_TASK_TABLE_CAPACITY - 1)).toBe(0);
    expect(id >>> 24).toBe(1);
    expect(table.get(id)).toBe(1);
  });
});
