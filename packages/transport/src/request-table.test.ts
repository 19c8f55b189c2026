import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestTable, requestKey } from "./request-table.js";

describe("RequestTable", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets only the first of several settlers remove an entry (settle once)", () => {
    const table = new RequestTable<string>(() => {});
    table.add("k", "request");
    const outcomes = [table.delete("k", "request"), table.delete("k", "request"), table.delete("k")];
    expect(outcomes).toEqual([true, false, false]);
    expect(table.size).toBe(0);
  });

  it("does not remove an entry that is not the item named", () => {
    const table = new RequestTable<string>(() => {});
    table.add("k", "new");
    expect(table.delete("k", "old")).toBe(false);
    expect(table.get("k")).toBe("new");
  });

  it("refuses a key already in flight", () => {
    const table = new RequestTable<string>(() => {});
    expect(table.add("k", "a")).toBe(true);
    expect(table.add("k", "b")).toBe(false);
    expect(table.get("k")).toBe("a");
  });

  it("expires an entry at its deadline, and never one deleted before", () => {
    const expired: string[] = [];
    const table = new RequestTable<string>((item) => {
      expired.push(item);
      table.delete(item, item);
    });
    table.add("slow", "slow", 100);
    table.add("answered", "answered", 100);
    table.add("forever", "forever");
    table.delete("answered");
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["slow"]);
    vi.advanceTimersByTime(1_000_000);
    expect(expired).toEqual(["slow"]);
    expect(table.values()).toEqual(["forever"]);
  });

  it("whenEmpty resolves once the last entry leaves", async () => {
    const table = new RequestTable<number>(() => {});
    await table.whenEmpty();
    table.add("a", 1);
    table.add("b", 2);
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

  it("keys ids by their 16 bytes, wherever the view starts", () => {
    const id = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), id]).subarray(3);
    expect(requestKey(framed)).toBe(requestKey(id));
    expect(requestKey(id)).not.toBe(requestKey(Buffer.alloc(16)));
  });
});
