import { describe, expect, it } from "vitest";
import { Channel } from "./channel.js";
import type { Peer } from "./peer.js";

/** A stand-in provider: only what pickProvider reads. */
function provider(name: string, capacity: number, load = 0): Peer {
  const inFlight = new Map<number, unknown>();
  for (let i = 0; i < load; i++) inFlight.set(i, null);
  return { name, capacity, inFlight } as unknown as Peer;
}

function channelWith(...providers: Peer[]): Channel {
  const channel = new Channel("k");
  for (const p of providers) channel.addProvider(p);
  return channel;
}

const nameOf = (peer: Peer | null) => (peer as unknown as { name: string } | null)?.name ?? null;

describe("Channel.pickProvider", () => {
  it("returns null with no providers or when all are at capacity", () => {
    expect(channelWith().pickProvider()).toBe(null);
    expect(channelWith(provider("a", 2, 2), provider("b", 1, 1)).pickProvider()).toBe(null);
  });

  it("picks the provider with the fewest requests in flight", () => {
    expect(nameOf(channelWith(provider("a", 10, 3), provider("b", 10, 1), provider("c", 10, 2)).pickProvider())).toBe("b");
  });

  it("never picks a provider at its capacity, even when it is the least loaded one", () => {
    expect(nameOf(channelWith(provider("a", 1, 1), provider("b", 10, 5)).pickProvider())).toBe("b");
  });

  it("takes turns among equally loaded providers", () => {
    const channel = channelWith(provider("a", 10, 1), provider("b", 10, 1), provider("c", 10, 1));
    expect([1, 2, 3, 4, 5, 6].map(() => nameOf(channel.pickProvider()))).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("keeps taking turns after a provider leaves", () => {
    const b = provider("b", 10);
    const channel = channelWith(provider("a", 10), b, provider("c", 10));
    expect(nameOf(channel.pickProvider())).toBe("a");
    expect(nameOf(channel.pickProvider())).toBe("b");
    channel.removeProvider(b);
    expect([1, 2, 3].map(() => nameOf(channel.pickProvider()))).toEqual(["c", "a", "c"]);
  });
});
