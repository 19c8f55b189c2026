import { describe, expect, it } from "vitest";
import { tickNow } from "./tick-clock.js";

describe("tickNow", () => {
  it("reads the clock once per synchronous run and again after it", async () => {
    const first = tickNow();
    const start = performance.now();
    while (performance.now() - start < 5) {
      // let the real clock move on
    }
    expect(tickNow()).toBe(first);
    await Promise.resolve();
    const later = tickNow();
    expect(later).toBeGreaterThanOrEqual(first + 5);
    expect(later).toBeLessThanOrEqual(performance.now());
  });
});
