import { describe, expect, it } from "vitest";
import { ProviderRequestIds } from "./provider-request-ids.js";

describe("ProviderRequestIds", () => {
  const serverId = Buffer.from("0102030405060708090a0b0c0d0e0f10", "hex");

  it("issues increasing sequence numbers from 1, never 0", () => {
    const ids = new ProviderRequestIds(serverId);
    expect([ids.next(), ids.next(), ids.next()]).toEqual([1, 2, 3]);
  });

  it("writes the server id's first 8 bytes then the number, and parses it back", () => {
    const ids = new ProviderRequestIds(serverId);
    for (const seq of [1, 0xffff_ffff, 0x1_0000_0000, 2 ** 53 - 1]) {
      const bytes = Buffer.from(ids.bytes(seq));
      expect(bytes.subarray(0, 8).equals(serverId.subarray(0, 8))).toBe(true);
      expect(ids.parse(bytes)).toBe(seq);
    }
  });

  it("parses ids another broker (another prefix) issued as 0", () => {
    const ours = new ProviderRequestIds(serverId);
    const theirs = new ProviderRequestIds(Buffer.alloc(16, 0xaa));
    expect(ours.parse(Buffer.from(theirs.bytes(5)))).toBe(0);
  });
});
