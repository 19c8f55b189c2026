import { describe, expect, it } from "vitest";
import { BrokerRequest } from "./broker-request.js";
import type { Peer } from "./peer.js";
import { RequestQueue } from "./request-queue.js";

const request = (key: string) => new BrokerRequest({} as Peer, key, Buffer.alloc(16), true, 0);
const keys = (queue: RequestQueue) => queue.toArray().map((r) => r.key);

describe("RequestQueue", () => {
  it("is first in, first out", () => {
    const queue = new RequestQueue();
    for (const key of ["a", "b", "c"]) queue.push(request(key));
    expect(queue.shift()?.key).toBe("a");
    expect(queue.shift()?.key).toBe("b");
    expect(queue.size).toBe(1);
    expect(queue.shift()?.key).toBe("c");
    expect(queue.shift()).toBe(null);
    expect(queue.size).toBe(0);
  });

  it("removes from the head, the middle and the tail", () => {
    const queue = new RequestQueue();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(request) as [BrokerRequest, BrokerRequest, BrokerRequest, BrokerRequest];
    for (const r of [a, b, c, d]) queue.push(r);
    queue.remove(b);
    expect(keys(queue)).toEqual(["a", "c", "d"]);
    queue.remove(a);
    queue.remove(d);
    expect(keys(queue)).toEqual(["c"]);
    queue.push(a);
    expect(keys(queue)).toEqual(["c", "a"]);
    expect(queue.size).toBe(2);
  });
});
