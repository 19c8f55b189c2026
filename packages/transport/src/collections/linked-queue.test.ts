import { describe, expect, it } from "vitest";
import { LinkedQueue, type QueueLinks } from "./linked-queue.js";

class Item implements QueueLinks<Item> {
  queuePrev: Item | null = null;
  queueNext: Item | null = null;
  constructor(readonly name: string) {}
}

const items = (...names: string[]) => names.map((name) => new Item(name));
const names = (queue: LinkedQueue<Item>) => queue.toArray().map((item) => item.name);

describe("LinkedQueue", () => {
  it("is first in, first out", () => {
    const queue = new LinkedQueue<Item>();
    for (const item of items("a", "b", "c")) queue.push(item);
    expect(queue.shift()?.name).toBe("a");
    expect(queue.shift()?.name).toBe("b");
    expect(queue.size).toBe(1);
    expect(queue.shift()?.name).toBe("c");
    expect(queue.shift()).toBeNull();
    expect(queue.size).toBe(0);
  });

  it("removes from the head, the middle and the tail without disturbing the rest", () => {
    const queue = new LinkedQueue<Item>();
    const [a, b, c, d, e] = items("a", "b", "c", "d", "e") as [Item, Item, Item, Item, Item];
    for (const item of [a, b, c, d, e]) queue.push(item);
    queue.remove(c);
    expect(names(queue)).toEqual(["a", "b", "d", "e"]);
    queue.remove(a);
    queue.remove(e);
    expect(names(queue)).toEqual(["b", "d"]);
    expect([c.queuePrev, c.queueNext]).toEqual([null, null]);
    queue.push(a);
    expect(names(queue)).toEqual(["b", "d", "a"]);
    expect(queue.size).toBe(3);
  });

  it("puts an item back at the head with unshift, into an empty queue too", () => {
    const queue = new LinkedQueue<Item>();
    const [one, two, three] = items("1", "2", "3") as [Item, Item, Item];
    queue.unshift(two);
    queue.push(three);
    queue.unshift(one);
    expect(names(queue)).toEqual(["1", "2", "3"]);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([one, two, three, null]);
  });
});
