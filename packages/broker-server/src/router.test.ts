import { describe, expect, it } from "vitest";
import { laneTimeout, MAX_REQUEST_TIMEOUT_MS } from "./router.js";

describe("laneTimeout", () => {
  it("keeps timeouts up to 256 ms exact", () => {
    for (const ms of [1, 100, 255, 256]) expect(laneTimeout(ms)).toBe(ms);
  });

  it("rounds up by at most 1/256 of the value", () => {
    for (const ms of [257, 511, 512, 513, 1000, 4999, 5000, 30_000, 123_457, 2_000_000_000, MAX_REQUEST_TIMEOUT_MS - 1]) {
      const lane = laneTimeout(ms);
      expect(lane).toBeGreaterThanOrEqual(ms);
      expect(lane - ms).toBeLessThanOrEqual(ms / 256);
    }
  });

  it("never rounds the longest accepted timeout past setTimeout's limit", () => {
    expect(laneTimeout(MAX_REQUEST_TIMEOUT_MS)).toBe(MAX_REQUEST_TIMEOUT_MS);
    expect(laneTimeout(MAX_REQUEST_TIMEOUT_MS - 1)).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it("bounds the number of distinct lanes whatever timeouts consumers send", () => {
    const lanes = new Set<number>();
    for (let ms = 1; ms <= 1_000_000; ms++) lanes.add(laneTimeout(ms));
    expect(lanes.size).toBeLessThan(256 * 13);
  });
});
