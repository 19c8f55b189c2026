import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineQueue } from "./deadline-queue.js";

describe("DeadlineQueue regressions", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("a timeout above 2³¹−1 ms (a u32 request timeout) waits instead of re-arming every millisecond", () => {
    const arm = vi.spyOn(globalThis, "setTimeout");
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add("u32-max", 0xffff_ffff);
    vi.advanceTimersByTime(1000);
    expect(arm.mock.calls.length).toBeLessThanOrEqual(1);
    for (const [, delay] of arm.mock.calls) expect(delay).toBeLessThanOrEqual(2 ** 31 - 1);
    vi.advanceTimersByTime(0xffff_ffff - 1001);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["u32-max"]);
  });

  it("an entry added from onExpire with the timeout of the lane just emptied still expires", () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => {
      expired.push(item);
      if (item === "first") queue.add("second", 100);
    });
    queue.add("first", 100);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["first"]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["first", "second"]);
    expect(queue.size).toBe(0);
  });

  it("many distinct timeouts, each deleted before expiring, leave nothing behind and later entries still expire", () => {
    const expired: number[] = [];
    const queue = new DeadlineQueue<number>((item) => expired.push(item));
    const entries = Array.from({ length: 1000 }, (_, i) => queue.add(i, 1000 + i));
    for (const entry of entries) queue.delete(entry);
    queue.add(-1, 50);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([-1]);
    expect(queue.size).toBe(0);
  });

  it("deleting an entry dropped by clear() leaves a new entry with the same timeout in place", () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    const old = queue.add("old", 100);
    queue.clear();
    queue.add("new", 100);
    queue.delete(old);
    expect(queue.size).toBe(1);
    vi.advanceTimersByTime(150);
    expect(expired).toEqual(["new"]);
  });
});
