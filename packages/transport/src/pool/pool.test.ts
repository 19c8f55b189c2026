import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Pool, type PoolOptions } from "./pool.js";

/** A stand-in connection that counts how many of its kind are alive at once. */
class FakeConn {
  static alive = 0;
  static peak = 0;
  static made = 0;
  readonly id = ++FakeConn.made;
  destroyed = false;

  constructor() {
    FakeConn.alive++;
    FakeConn.peak = Math.max(FakeConn.peak, FakeConn.alive);
  }

  destroy(): void {
    if (this.destroyed) throw new Error(`connection ${this.id} destroyed twice`);
    this.destroyed = true;
    FakeConn.alive--;
  }

  static reset(): void {
    FakeConn.alive = FakeConn.peak = FakeConn.made = 0;
  }
}

const pools: Pool<FakeConn>[] = [];

function pool(options: Partial<PoolOptions<FakeConn>> = {}): Pool<FakeConn> {
  const created = new Pool<FakeConn>({ cap: 2, factory: () => new FakeConn(), name: "test", ...options });
  pools.push(created);
  return created;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((p) => p.close()));
  FakeConn.reset();
});

describe("Pool", () => {
  it("await using closes it at the end of its scope: idle items are destroyed, gets fail with CLOSING", async () => {
    let escaped: Pool<FakeConn> | null = null;
    let item: FakeConn | null = null;
    {
      await using scoped = new Pool<FakeConn>({ cap: 2, factory: () => new FakeConn(), name: "scoped" });
      item = await scoped.get();
      scoped.put(item);
      escaped = scoped;
    }
    expect(escaped.closed).toBe(true);
    expect(item.destroyed).toBe(true);
    await expect(escaped.get()).rejects.toMatchObject({ code: "CLOSING" });
  });

  it("reuses an item that was put back instead of making a new one", async () => {
    const p = pool();
    const first = await p.get();
    p.put(first);
    expect(p.idle).toBe(1);
    const again = await p.get();
    expect(again).toBe(first);
    expect(FakeConn.made).toBe(1);
    expect(p.busy).toBe(1);
  });

  it("never has more than cap items alive under 1 000 concurrent gets, and serves every one", async () => {
    const p = pool({
      cap: 5,
      acquireTimeout: 0,
      factory: async () => {
        await sleep(Math.random() * 3);
        return new FakeConn();
      },
    });
    let served = 0;
    await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const item = await p.get();
        expect(p.size).toBeLessThanOrEqual(5);
        await sleep(Math.random() * 2);
        served++;
        p.put(item);
      }),
    );
    expect(served).toBe(1000);
    expect(FakeConn.peak).toBeLessThanOrEqual(5);
    expect(FakeConn.made).toBeLessThanOrEqual(5);
    expect(p.pending).toBe(0);
  });

  it("serves waiters first come first served", async () => {
    const p = pool({ cap: 1 });
    const held = await p.get();
    const order: number[] = [];
    const waits = [1, 2, 3, 4].map((n) =>
      p.get().then((item) => {
        order.push(n);
        return item;
      }),
    );
    expect(p.pending).toBe(4);
    let item = held;
    for (const wait of waits) {
      p.put(item);
      item = await wait;
    }
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it("rejects an aborted get with ABORTED, carrying the signal's reason, and serves the next waiter", async () => {
    const p = pool({ cap: 1 });
    const held = await p.get();
    const controller = new AbortController();
    const aborted = p.get(controller.signal);
    const next = p.get();
    controller.abort(new Error("caller gave up"));
    await expect(aborted).rejects.toMatchObject({ code: "ABORTED", cause: { message: "caller gave up" } });
    p.put(held);
    await expect(next).resolves.toBe(held);
  });

  it("rejects a get whose signal is already aborted without touching the pool", async () => {
    const p = pool();
    await expect(p.get(AbortSignal.abort())).rejects.toMatchObject({ code: "ABORTED" });
    expect(FakeConn.made).toBe(0);
  });

  it("fails a get with TIMEOUT after acquireTimeout, with a stack that points at the caller", async () => {
    const p = pool({ cap: 1, acquireTimeout: 20 });
    await p.get();
    async function callerOfGet() {
      return p.get();
    }
    const error = await callerOfGet().catch((e: Error) => e);
    expect(error).toMatchObject({ code: "TIMEOUT", name: "TimeoutError" });
    expect((error as Error).stack).toContain("callerOfGet");
    expect(p.pending).toBe(0);
  });

  it("lets one get() wait longer or shorter than acquireTimeout with { timeout }", async () => {
    const p = pool({ cap: 1, acquireTimeout: 0 });
    const held = await p.get();
    await expect(p.get({ timeout: 10 })).rejects.toMatchObject({ code: "TIMEOUT" });
    const patient = p.get({ timeout: 5000, signal: new AbortController().signal });
    p.put(held);
    await expect(patient).resolves.toBe(held);
  });

  it("close() rejects every waiter with CLOSING, closes idle items, and closes busy ones when they come back", async () => {
    const p = pool({ cap: 2 });
    const [a, b] = await Promise.all([p.get(), p.get()]);
    p.put(a);
    const busy = b;
    const again = await p.get();
    const waiters = [p.get(), p.get()];
    p.put(again);
    const first = await waiters[0]!;
    await p.close();
    await expect(waiters[1]).rejects.toMatchObject({ code: "CLOSING" });
    await expect(p.get()).rejects.toMatchObject({ code: "CLOSING" });
    p.put(first);
    p.release(busy);
    expect(FakeConn.alive).toBe(0);
    expect(p.size).toBe(0);
  });

  it("closes items idle for longer than idleTimeout and keeps fresher ones", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const p = pool({ cap: 2, idleTimeout: 1000 });
    const [a, b] = await Promise.all([p.get(), p.get()]);
    p.put(a);
    vi.advanceTimersByTime(600);
    p.put(b);
    vi.advanceTimersByTime(500);
    expect(a.destroyed).toBe(true);
    expect(b.destroyed).toBe(false);
    expect(p.idle).toBe(1);
    vi.advanceTimersByTime(600);
    expect(b.destroyed).toBe(true);
    expect(p.size).toBe(0);
  });

  it("releases an idle item that fails validation and hands out a fresh one", async () => {
    const p = pool({ validate: (item) => !item.destroyed && item.id !== 1 });
    const first = await p.get();
    p.put(first);
    const second = await p.get();
    expect(second).not.toBe(first);
    expect(first.destroyed).toBe(true);
    expect(p.size).toBe(1);
  });

  it("awaits an asynchronous validate, and treats a throwing validate as a failure", async () => {
    let calls = 0;
    const p = pool({
      validate: async () => {
        calls++;
        if (calls === 1) throw new Error("probe failed");
        return true;
      },
    });
    const first = await p.get();
    p.put(first);
    const second = await p.get();
    expect(first.destroyed).toBe(true);
    p.put(second);
    await expect(p.get()).resolves.toBe(second);
    expect(calls).toBe(2);
  });

  it("does not leak a slot when the factory throws: the first waiter gets the error, the next get works", async () => {
    let attempts = 0;
    const p = pool({
      cap: 1,
      factory: () => {
        attempts++;
        if (attempts === 1) throw new Error("ECONNREFUSED");
        return new FakeConn();
      },
    });
    await expect(p.get()).rejects.toThrow("ECONNREFUSED");
    expect(p.size).toBe(0);
    await expect(p.get()).resolves.toBeInstanceOf(FakeConn);
    expect(p.size).toBe(1);
  });

  it("after a failed dial it dials no more until reconnectDelay has passed, then serves the waiter with a fresh dial", async () => {
    let attempts = 0;
    const p = pool({
      cap: 1,
      reconnectDelay: 200,
      maxReconnectDelay: 200,
      factory: () => {
        attempts++;
        if (attempts === 1) throw new Error("ECONNREFUSED");
        return new FakeConn();
      },
    });
    await expect(p.get()).rejects.toThrow("ECONNREFUSED");
    // Equal jitter: within [reconnectDelay / 2, reconnectDelay].
    expect(p.backoff).toBeGreaterThan(50);
    expect(p.backoff).toBeLessThanOrEqual(200);
    expect(p.lastDialError).toMatchObject({ message: "ECONNREFUSED" });
    const waiting = p.get();
    await sleep(40);
    expect(attempts).toBe(1);
    await expect(waiting).resolves.toBeInstanceOf(FakeConn);
    expect(attempts).toBe(2);
    expect(p.backoff).toBe(0);
    expect(p.lastDialError).toBeUndefined();
  });

  it("hands out an idle item while it is in backoff from a failed dial", async () => {
    let failing = false;
    const p = pool({
      cap: 2,
      reconnectDelay: 10_000,
      factory: () => {
        if (failing) throw new Error("ECONNREFUSED");
        return new FakeConn();
      },
    });
    const item = await p.get();
    failing = true;
    await expect(p.get()).rejects.toThrow("ECONNREFUSED");
    expect(p.backoff).toBeGreaterThan(1000);
    p.put(item);
    await expect(p.get({ timeout: 1000 })).resolves.toBe(item);
    // With nothing idle, a get waits for the backoff instead of dialling.
    await expect(p.get({ timeout: 30 })).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("abandons a factory slower than dialTimeout with TIMEOUT and closes the item it makes later", async () => {
    let late: FakeConn | undefined;
    const p = pool({
      cap: 1,
      dialTimeout: 20,
      factory: async () => {
        await sleep(60);
        late = new FakeConn();
        return late;
      },
    });
    await expect(p.get()).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(p.size).toBe(0);
    await vi.waitFor(() => expect(late?.destroyed).toBe(true));
  });

  it("release() frees the slot so a waiter gets a new item", async () => {
    const p = pool({ cap: 1 });
    const broken = await p.get();
    const waiting = p.get();
    p.release(broken);
    const fresh = await waiting;
    expect(broken.destroyed).toBe(true);
    expect(fresh).not.toBe(broken);
    expect(p.size).toBe(1);
  });

  it("refuses to take back an item it never handed out", async () => {
    const p = pool();
    expect(() => p.put(new FakeConn())).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    const item = await p.get();
    p.put(item);
    expect(() => p.put(item)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("close() aborts a dial in progress and resolves once it has settled", async () => {
    let signalSeen: AbortSignal | undefined;
    const p = pool({
      factory: (signal) => {
        signalSeen = signal;
        return new Promise<FakeConn>(() => {});
      },
    });
    const waiting = p.get();
    await p.close();
    expect(signalSeen?.aborted).toBe(true);
    await expect(waiting).rejects.toMatchObject({ code: "CLOSING" });
    expect(p.size).toBe(0);
  });

  it("refuses a cap that is not a positive integer, naming the option", () => {
    expect(() => new Pool({ cap: 0, factory: () => new FakeConn() })).toThrow(/"cap"/);
    expect(() => new Pool({ cap: 1.5, factory: () => new FakeConn() })).toThrow(/"cap"/);
    expect(() => new Pool({ factory: () => new FakeConn() } as unknown as PoolOptions<FakeConn>)).toThrow(/"cap"/);
  });
});
