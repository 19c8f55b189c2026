import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineQueue } from "./deadline-queue.js";

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
});
