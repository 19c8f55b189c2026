import { describe, expect, it } from "vitest";
import { type ProviderRouted, ProviderRequestIds } from "./provider-request-ids.js";

const serverId = Buffer.from("0102030405060708090a0b0c0d0e0f10", "hex");
const routed = (): ProviderRouted => ({ slot: -1, seq: 0 });

describe("ProviderRequestIds", () => {
  it("gives each request a fresh sequence number from 1 and finds it by the id it wrote", () => {
    const ids = new ProviderRequestIds(serverId);
    const items = [routed(), routed(), routed()];
    for (const item of items) ids.issue(item);
    expect(items.map((item) => item.seq)).toEqual([1, 2, 3]);
    for (const item of items) expect(ids.find(Buffer.from(ids.bytes(item)))).toBe(item);
    expect(ids.size).toBe(3);
  });

  it("writes the server id's first 4 bytes, the slot, then the sequence number, up to 2^53 − 1", () => {
    const ids = new ProviderRequestIds(serverId);
    const item = routed();
    ids.issue(item);
    for (const seq of [1, 0xffff_ffff, 0x1_0000_0000, 2 ** 53 - 1]) {
      item.seq = seq;
      const bytes = Buffer.from(ids.bytes(item));
      expect(bytes.subarray(0, 4).equals(serverId.subarray(0, 4))).toBe(true);
      expect(bytes.readUInt32BE(4)).toBe(item.slot);
      expect(bytes.readUInt32BE(8) * 2 ** 32 + bytes.readUInt32BE(12)).toBe(seq);
      expect(ids.find(bytes)).toBe(item);
    }
  });

  it("reuses a released slot, and the id issued for its earlier occupant no longer finds anything", () => {
    const ids = new ProviderRequestIds(serverId);
    const first = routed();
    ids.issue(first);
    const stale = Buffer.from(ids.bytes(first));
    ids.release(first);
    expect(ids.find(stale)).toBeUndefined();
    const second = routed();
    ids.issue(second);
    expect(second.slot).toBe(stale.readUInt32BE(4));
    expect(ids.find(stale)).toBeUndefined();
    expect(ids.find(Buffer.from(ids.bytes(second)))).toBe(second);
  });

  it("finds nothing for ids another broker issued or that name a slot it never filled", () => {
    const ours = new ProviderRequestIds(serverId);
    const theirs = new ProviderRequestIds(Buffer.alloc(16, 0xaa));
    const item = routed();
    theirs.issue(item);
    ours.issue(routed());
    expect(ours.find(Buffer.from(theirs.bytes(item)))).toBeUndefined();
    const farSlot = Buffer.from(ours.bytes({ slot: 0xffff_fff0, seq: 1 }));
    expect(ours.find(farSlot)).toBeUndefined();
  });

  it("ignores a release of an item it does not hold", () => {
    const ids = new ProviderRequestIds(serverId);
    const held = routed();
    ids.issue(held);
    ids.release(routed());
    ids.release({ slot: held.slot, seq: 99 });
    expect(ids.find(Buffer.from(ids.bytes(held)))).toBe(held);
    expect(ids.size).toBe(1);
  });
});
