import { describe, expect, it, vi } from "vitest";
import { AsyncQueue } from "./async-queue.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("AsyncQueue", () => {
  it("yields items pushed before and after the reader waits, in order, then ends", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    const reading = collect(queue);
    await Promise.resolve();
    queue.push(2);
    queue.push(3);
    queue.end();
    expect(await reading).toEqual([1, 2, 3]);
  });

  it("after fail() the reader gets what was queued, then the error", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.fail(new Error("boom"));
    expect(await queue.next()).toEqual({ done: false, value: "a" });
    await expect(queue.next()).rejects.toThrow("boom");
  });

  it("refuses pushes once ended", () => {
    const queue = new AsyncQueue<number>();
    queue.end();
    expect(queue.push(1)).toBe(false);
    expect(queue.size).toBe(0);
  });

  it("a reader that leaves early drops the queue and runs onReturn once", async () => {
    const onReturn = vi.fn();
    const queue = new AsyncQueue<number>(onReturn);
    for (let i = 0; i < 5; i++) queue.push(i);
    for await (const item of queue) if (item === 1) break;
    expect(onReturn).toHaveBeenCalledTimes(1);
    expect(queue.size).toBe(0);
    expect(queue.push(9)).toBe(false);
    await queue.return();
    expect(onReturn).toHaveBeenCalledTimes(1);
  });

  it("does not run onReturn when the reader leaves after the queue ended", async () => {
    const onReturn = vi.fn();
    const queue = new AsyncQueue<number>(onReturn);
    queue.push(1);
    queue.end();
    for await (const _ of queue) break;
    expect(onReturn).not.toHaveBeenCalled();
  });

  it("keeps order across compaction of a long queue", async () => {
    const queue = new AsyncQueue<number>();
    const reading = collect(queue);
    for (let i = 0; i < 5000; i++) queue.push(i);
    queue.end();
    const all = await reading;
    expect(all).toHaveLength(5000);
    expect(all.every((value, index) => value === index)).toBe(true);
    const second = new AsyncQueue<number>();
    for (let i = 0; i < 3000; i++) second.push(i);
    const firstHalf: number[] = [];
    for (let i = 0; i < 2000; i++) firstHalf.push(((await second.next()) as IteratorYieldResult<number>).value);
    for (let i = 3000; i < 3100; i++) second.push(i);
    second.end();
    const rest = await collect(second);
    expect([...firstHalf, ...rest]).toEqual(Array.from({ length: 3100 }, (_, i) => i));
  });

  it("tells onTaken of each item as the reader gets it, whether it waited for it or it was queued, and of none the reader never took", async () => {
    const taken: number[] = [];
    const queue = new AsyncQueue<number>(undefined, (item) => taken.push(item));
    const waiting = queue.next();
    queue.push(1);
    await waiting;
    queue.push(2);
    queue.push(3);
    expect(taken).toEqual([1]);
    await queue.next();
    expect(taken).toEqual([1, 2]);
    await queue.return();
    expect(taken).toEqual([1, 2]);
  });
});
