import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DeadlineEntry, DeadlineQueue } from "./deadline-queue.js";

describe("DeadlineQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("expires each entry once, at its deadline, across lanes in deadline order", () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add("a-5000", 5000);
    vi.advanceTimersByTime(100);
    queue.add("b-2000", 2000);
    queue.add("c-5000", 5000);
    vi.advanceTimersByTime(1999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["b-2000"]);
    vi.advanceTimersByTime(2899);
    expect(expired).toEqual(["b-2000"]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["b-2000", "a-5000"]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(["b-2000", "a-5000", "c-5000"]);
    expect(queue.size).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(expired).toHaveLength(3);
  });

  it("never expires a deleted entry, wherever it stood in its lane", () => {
    const expired: number[] = [];
    const queue = new DeadlineQueue<number>((item) => expired.push(item));
    const entries = [0, 1, 2, 3, 4].map((n) => queue.add(n, 1000));
    queue.delete(entries[0]!);
    queue.delete(entries[2]!);
    queue.delete(entries[4]!);
    queue.delete(entries[4]!);
    expect(queue.size).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual([1, 3]);
  });

  it("arms for a shorter timeout added after a longer one", () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add("long", 10_000);
    queue.add("short", 10);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(["short"]);
  });

  it("keeps 100 000 entries on one timer and expires them all", () => {
    let count = 0;
    const queue = new DeadlineQueue<number>(() => count++);
    for (let i = 0; i < 100_000; i++) queue.add(i, 5000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(count).toBe(100_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clear drops everything without expiring it", () => {
    const onExpire = vi.fn();
    const queue = new DeadlineQueue<number>(onExpire);
    queue.add(1, 10);
    queue.clear();
    vi.advanceTimersByTime(100);
    expect(onExpire).not.toHaveBeenCalled();
    expect(queue.size).toBe(0);
  });

  it("10 000 entries under as many distinct timeouts, added in shuffled order, each expire exactly at their deadline, in deadline order", () => {
    const fired: Array<{ item: number; at: number }> = [];
    const queue = new DeadlineQueue<number>((item) => fired.push({ item, at: performance.now() }));
    const start = performance.now();
    const timeouts = shuffled(Array.from({ length: 10_000 }, (_, i) => 100 + 3 * i));
    const deleted = new Set<number>();
    for (const [i, timeout] of timeouts.entries()) {
      const entry = queue.add(timeout, timeout);
      if (i % 10 === 0) {
        queue.delete(entry);
        deleted.add(timeout);
      }
    }
    vi.advanceTimersByTime(100 + 3 * 10_000);
    const expected = timeouts.filter((timeout) => !deleted.has(timeout)).sort((a, b) => a - b);
    expect(fired.map(({ item }) => item)).toEqual(expected);
    for (const { item, at } of fired) expect(at - start).toBe(item);
    expect(queue.size).toBe(0);
  });

  // Issue 10: the queue walked every lane (one per distinct timeout) on each expiry, so callers
  // passing varied timeouts (the consumer's per-request timeout, anet's) made each expiry O(lanes).
  it("an expiry looks at O(log lanes) deadlines, however many distinct timeouts are waiting", () => {
    let reads = 0;
    /** Counts every read of the entry's deadline, the only thing the queue orders by. */
    const counted = <T>(entry: DeadlineEntry<T>): void => {
      const deadline = entry.deadline;
      Object.defineProperty(entry, "deadline", {
        get: () => {
          reads++;
          return deadline;
        },
      });
    };
    const queue = new DeadlineQueue<number>(() => {});
    const lanes = 4096;
    for (let i = 0; i < lanes; i++) counted(queue.add(i, 1_000_000 + i)); // far off: never due here
    const expiries = 1000;
    for (let i = 0; i < expiries; i++) {
      counted(queue.add(-1, 10));
      vi.advanceTimersByTime(10); // one expiry each, with every long lane waiting
    }
    expect(queue.size).toBe(lanes);
    // A heap of 4097 lanes is 13 levels deep: the short lane sifts up on its add and its
    // replacement sifts down on its expiry, a few reads per level — never one per lane.
    expect(reads / expiries).toBeLessThan(6 * Math.log2(lanes) + 8);
  });
});

/** `values` in a fixed pseudo-random order (a seeded Fisher–Yates shuffle). */
function shuffled<T>(values: T[]): T[] {
  let seed = 0x2545f491;
  for (let i = values.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}
