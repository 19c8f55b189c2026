import { describe, expect, it } from "vitest";
import { PendingRequest } from "./pending-request.js";
import { RequestQueue } from "./request-queue.js";

const owner = { onAbort() {} };
const request = (n: number) => new PendingRequest(owner, [Buffer.from([n])], () => {}, () => {}, null);
const drain = (queue: RequestQueue) => {
  const out: number[] = [];
  for (let r = queue.shift(); r !== null; r = queue.shift()) out.push(r.parts![0]![0]!);
  return out;
};

describe("RequestQueue", () => {
  it("hands requests out first in, first out", () => {
    const queue = new RequestQueue();
    for (const n of [1, 2, 3]) queue.push(request(n));
    expect(queue.size).toBe(3);
    expect(drain(queue)).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeNull();
  });

  it("removes a request from the head, the middle or the tail without disturbing the rest", () => {
    const queue = new RequestQueue();
    const items = [1, 2, 3, 4, 5].map(request);
    for (const item of items) queue.push(item);
    queue.remove(items[2]!);
    queue.remove(items[0]!);
    queue.remove(items[4]!);
    expect(queue.size).toBe(2);
    expect(drain(queue)).toEqual([2, 4]);
  });

  it("puts a refused request back at the head with unshift", () => {
    const queue = new RequestQueue();
    queue.push(request(2));
    queue.unshift(request(1));
    queue.push(request(3));
    expect(drain(queue)).toEqual([1, 2, 3]);
  });
});
