import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

describe("backoffDelay", () => {
  it("doubles the nominal delay per attempt up to the cap", () => {
    const top = () => 1 - Number.EPSILON; // the largest draw: just under the nominal delay
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, 100, 2000, top))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it("never goes below half the nominal delay (the jitter's lower bound)", () => {
    expect([0, 1, 2, 10].map((attempt) => backoffDelay(attempt, 100, 2000, () => 0))).toEqual([50, 100, 200, 1000]);
  });

  it("spreads clients that retry at the same attempt", () => {
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 5000)));
    expect(draws.size).toBeGreaterThan(10);
    for (const delay of draws) expect(delay).toBeGreaterThanOrEqual(400);
    for (const delay of draws) expect(delay).toBeLessThanOrEqual(800);
  });

  it("stays at the cap for attempts whose doubling would overflow", () => {
    expect(backoffDelay(5000, 100, 3000, () => 0.5)).toBe(2250);
  });
});
