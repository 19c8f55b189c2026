import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CapacityPolicy, USE_MEMORY } from "./capacity-policy.js";

/** Registers `count` connections as a provider starting up would: each asks, then each opens. */
function startWith(concurrency: number, count: number, adjustable = true): CapacityPolicy<string> {
  const policy = new CapacityPolicy<string>(concurrency);
  const asked = Array.from({ length: count }, () => policy.registrationCapacity(count));
  for (const [i, capacity] of asked.entries()) policy.opened(`b${i}`, capacity, adjustable);
  return policy;
}

function capacities(policy: CapacityPolicy<string>, count: number): number[] {
  return Array.from({ length: count }, (_, i) => policy.capacityOf(`b${i}`)!);
}

describe("CapacityPolicy", () => {
  it("gives one broker the whole concurrency, and several a fair share each plus the 1 every broker keeps", () => {
    expect(capacities(startWith(64, 1), 1)).toEqual([64]);
    expect(capacities(startWith(64, 2), 2)).toEqual([32, 32]);
    expect(capacities(startWith(64, 3), 3)).toEqual([22, 22, 22]);
    expect(capacities(startWith(1, 3), 3)).toEqual([1, 1, 1]);
  });

  it("moves the idle broker's capacity to the busy one: 64 from one broker of two, the other keeping 1", () => {
    const policy = startWith(64, 2);
    expect(policy.observe("b0", 32)).toBe(true);
    expect(policy.rebalance()).toEqual([
      ["b0", 64],
      ["b1", 1],
    ]);
    expect(policy.observe("b0", 64)).toBe(false); // at the whole concurrency: nothing more to ask for
  });

  it("ramps by doubling when the capacity to take is free, not held", () => {
    const policy = new CapacityPolicy<string>(64);
    policy.opened("b0", 4, true);
    policy.opened("b1", 1, true);
    policy.observe("b0", 4);
    expect(policy.rebalance()).toEqual([["b0", 8]]);
    policy.observe("b0", 8);
    expect(policy.rebalance()).toEqual([["b0", 16]]);
  });

  it("follows demand back when it moves to the other broker: the one left with 1 doubles each rebalance until it holds it all", () => {
    const policy = startWith(64, 2);
    policy.observe("b0", 32);
    policy.rebalance(); // b0 64, b1 1
    policy.observe("b0", 0); // the consumers moved to b1
    const seen: number[] = [];
    for (let round = 0; round < 8 && policy.capacityOf("b1")! < 64; round++) {
      policy.observe("b1", policy.capacityOf("b1")!);
      policy.rebalance();
      seen.push(policy.capacityOf("b1")!);
    }
    expect(seen).toEqual([2, 4, 8, 16, 32, 64]);
    expect(policy.capacityOf("b0")).toBe(1);
  });

  it("takes from a donor only what it did not use since the last rebalance, and keeps its peak plus one", () => {
    const policy = startWith(64, 2);
    policy.observe("b1", 10);
    policy.observe("b1", 3); // its peak stays 10
    policy.observe("b0", 32);
    expect(policy.rebalance()).toEqual([
      ["b0", 54], // the 1 extra nobody held, and b1's 21 unused
      ["b1", 11],
    ]);
  });

  it("judges a donor by its peak over the last USE_MEMORY intervals: a connection its broker keeps full gives nothing for looking quiet once", () => {
    // Demand just filling the concurrency, 50 on each broker: the provider sees 50 on b1 in one
    // interval and 20 in the next (the rest in transit), while b0 fills its capacity.
    const policy = new CapacityPolicy<string>(100);
    policy.opened("b0", 50, true);
    policy.opened("b1", 51, true);
    policy.observe("b1", 50);
    expect(policy.rebalance()).toEqual([]); // nobody busy
    policy.observe("b1", 20);
    policy.observe("b0", 50);
    expect(policy.rebalance()).toEqual([]); // judged by its last interval alone, b1 would have given 30 (80/21)
    expect([policy.capacityOf("b0"), policy.capacityOf("b1")]).toEqual([50, 51]);
  });

  it("takes a donor's capacity once it stayed unused for USE_MEMORY intervals", () => {
    const policy = new CapacityPolicy<string>(100);
    policy.opened("b0", 50, true);
    policy.opened("b1", 51, true);
    policy.observe("b1", 50);
    policy.observe("b1", 20); // its demand fell to 20 for good
    policy.rebalance();
    const seen: number[] = [];
    for (let interval = 0; interval < USE_MEMORY; interval++) {
      policy.observe("b0", policy.capacityOf("b0")!);
      policy.rebalance();
      seen.push(policy.capacityOf("b1")!);
    }
    expect(seen).toEqual([...Array(USE_MEMORY - 1).fill(51), 21]); // its 50 remembered through USE_MEMORY − 1 more intervals, then its peak 20 plus one
    expect(policy.capacityOf("b0")).toBe(80);
  });

  it("moves nothing while no broker is busy, and nothing between brokers that are both busy", () => {
    const policy = startWith(65, 2); // 33 each: every extra held
    policy.observe("b0", 20);
    expect(policy.rebalance()).toEqual([]);
    policy.observe("b0", 33);
    policy.observe("b1", 33);
    expect(policy.rebalance()).toEqual([]);
  });

  it("shares what it frees between several busy brokers in proportion to what each wants", () => {
    const policy = startWith(64, 3); // 22 each
    policy.observe("b0", 22);
    policy.observe("b1", 22);
    const changes = new Map(policy.rebalance());
    expect(changes.get("b2")).toBe(1);
    expect(changes.get("b0")! + changes.get("b1")! - 2).toBe(63 - 0); // every extra goes to the two busy ones
    expect(Math.abs(changes.get("b0")! - changes.get("b1")!)).toBeLessThanOrEqual(1);
  });

  it("never changes a broker that cannot be told (protocol 1.0): it keeps what it registered with", () => {
    const policy = new CapacityPolicy<string>(64);
    policy.opened("old", 32, false);
    policy.opened("new", 33, true); // every extra held
    expect(policy.observe("old", 32)).toBe(false);
    policy.observe("new", 33);
    expect(policy.rebalance()).toEqual([]); // the old one's idle 31 cannot be taken
    expect(policy.capacityOf("old")).toBe(32);
  });

  it("gives a lost broker's capacity to a busy one, and a rejoining broker what nobody holds", () => {
    const policy = startWith(64, 2);
    policy.closed("b1");
    expect(policy.registrationCapacity(2)).toBe(32);
    policy.observe("b0", 32);
    expect(policy.rebalance()).toEqual([["b0", 64]]);
    expect(policy.registrationCapacity(2)).toBe(1); // it grows once requests show demand on it
  });

  it("takes back what overlapping registrations overshot, from idle brokers", () => {
    const policy = new CapacityPolicy<string>(64);
    policy.opened("b0", 64, true);
    policy.opened("b1", 32, true);
    policy.observe("b1", 5);
    const changes = new Map(policy.rebalance());
    expect(policy.capacityOf("b0")! - 1 + policy.capacityOf("b1")! - 1).toBeLessThanOrEqual(63);
    expect(changes.size).toBeGreaterThan(0);
  });

  it("under any sequence of loads, registrations and losses: every broker between 1 and the concurrency, the extras within concurrency − 1, and the busy one reaching the whole concurrency when the others idle", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("load" as const), link: fc.nat(3), load: fc.nat(80) }),
      fc.record({ kind: fc.constant("rebalance" as const) }),
      fc.record({ kind: fc.constant("lose" as const), link: fc.nat(3) }),
      fc.record({ kind: fc.constant("join" as const), link: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(op, { maxLength: 60 }), (concurrency, ops) => {
        const policy = new CapacityPolicy<number>(concurrency);
        const open = new Set<number>();
        const join = (link: number) => {
          policy.opened(link, policy.registrationCapacity(4), true);
          open.add(link);
        };
        join(0);
        for (const step of ops) {
          if (step.kind === "load" && open.has(step.link)) policy.observe(step.link, Math.min(step.load, policy.capacityOf(step.link)!));
          else if (step.kind === "rebalance") policy.rebalance();
          else if (step.kind === "lose" && open.size > 1 && open.has(step.link)) {
            policy.closed(step.link);
            open.delete(step.link);
          } else if (step.kind === "join" && !open.has(step.link)) join(step.link);
        }
        for (const link of open) policy.observe(link, 0);
        policy.rebalance(); // the overshoot of the joins is taken back
        let extras = 0;
        for (const link of open) {
          const capacity = policy.capacityOf(link)!;
          expect(capacity).toBeGreaterThanOrEqual(1);
          expect(capacity).toBeLessThanOrEqual(concurrency);
          extras += capacity - 1;
        }
        expect(extras).toBeLessThanOrEqual(concurrency - 1);
        // demand on one broker only: within a few rebalances it may hold the whole concurrency
        const [busy] = open;
        for (let round = 0; round < 8; round++) {
          policy.observe(busy!, policy.capacityOf(busy!)!);
          policy.rebalance();
        }
        expect(policy.capacityOf(busy!)).toBe(concurrency);
      }),
    );
  });
});
