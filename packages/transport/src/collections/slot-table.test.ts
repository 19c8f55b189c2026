import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlotTable } from "./slot-table.js";

describe("SlotTable", () => {
  it("holds each value in its own slot, with generation 1 on a slot's first use, and finds it by (slot, generation)", () => {
    const table = new SlotTable<string>();
    const slots = Array.from({ length: 10 }, (_, i) => table.add(`v${i}`));
    expect(new Set(slots).size).toBe(10);
    expect(table.size).toBe(10);
    for (const [i, slot] of slots.entries()) {
      expect(table.generation(slot)).toBe(1);
      expect(table.get(slot, 1)).toBe(`v${i}`);
      expect(table.get(slot, 2)).toBeUndefined();
      expect(table.at(slot)).toBe(`v${i}`);
    }
    expect(table.generation(99)).toBe(0);
    expect(table.at(99)).toBeUndefined();
  });

  it("reuses a freed slot first with the next generation, so the old (slot, generation) misses", () => {
    const table = new SlotTable<string>();
    table.add("a");
    const b = table.add("b");
    expect(table.delete(b, "not b")).toBeUndefined();
    expect(table.delete(b, "b")).toBe("b");
    expect(table.delete(b)).toBeUndefined();
    expect(table.generation(b)).toBe(1);
    expect(table.get(b, 1)).toBeUndefined();
    expect(table.add("c")).toBe(b);
    expect(table.generation(b)).toBe(2);
    expect(table.get(b, 1)).toBeUndefined();
    expect(table.get(b, 2)).toBe("c");
    expect(table.values().sort()).toEqual(["a", "c"]);
  });

  it("refuses a value beyond its capacity with a RangeError, and takes one again once a slot is freed", () => {
    const table = new SlotTable<number>(2);
    const first = table.add(1);
    table.add(2);
    expect(() => table.add(3)).toThrow(RangeError);
    expect(table.size).toBe(2);
    table.delete(first);
    expect(table.add(3)).toBe(first);
  });

  it("clear() frees every slot but keeps the generations", () => {
    const table = new SlotTable<string>();
    const a = table.add("a");
    table.add("b");
    table.clear();
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
    expect(table.get(a, 1)).toBeUndefined();
    const again = table.add("again");
    expect(table.generation(again)).toBe(2);
  });

  it("never holds two values under the same (slot, generation), whatever the adds and deletes", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat(20)), { maxLength: 200 }), (ops) => {
        const table = new SlotTable<number>();
        const held = new Map<number, number>(); // value → slot
        const seen = new Set<string>();
        let next = 0;
        for (const op of ops) {
          if (op === -1 || held.size === 0) {
            const value = next++;
            const slot = table.add(value);
            const key = `${slot}/${table.generation(slot)}`;
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            held.set(value, slot);
          } else {
            const value = [...held.keys()][op % held.size]!;
            expect(table.delete(held.get(value)!, value)).toBe(value);
            held.delete(value);
          }
          expect(table.size).toBe(held.size);
          for (const [value, slot] of held) expect(table.get(slot, table.generation(slot))).toBe(value);
        }
      }),
    );
  });
});
