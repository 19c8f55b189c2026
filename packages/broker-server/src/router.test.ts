import { describe, expect, it } from "vitest";
import { laneTimeout } from "./router.js";

describe("laneTimeout", () => {
  it("keeps timeouts up to 256 ms exact", () => {
    for (const ms of [1, 100, 255, 256]) expect(laneTimeout(ms)).toBe(ms);
  });

  it("rounds up by at most 1/256 of the value", () => {
    for (const ms of [257, 1000, 4999, 5000, 30_000, 123_457, 2_000_000_000]) {
      const lane = laneTimeout(ms);
      expect(lane).toBeGreaterThanOrEqual(ms);
      expect(lane - ms).toBeLessThanOrEqual(ms / 256);
    }
  });

  it("bounds the number of distinct lanes whatever timeouts consumers send", () => {
    const lanes = new Set<number>();
    for (let ms = 1; ms <= 1_000_000; ms++) lanes.add(laneTimeout(ms));
    expect(lanes.size).toBeLessThan(256 * 13);
  });
});
