import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketOf, LATENCY_BUCKETS_MS, LatencyHistogram } from "./latency-histogram.js";

describe("LatencyHistogram", () => {
  it("puts a duration in the first bucket whose upper bound it does not pass", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.05)).toBe(0);
    expect(bucketOf(0.051)).toBe(1);
    expect(bucketOf(5000)).toBe(LATENCY_BUCKETS_MS.indexOf(5000));
    expect(bucketOf(10_000.5)).toBe(LATENCY_BUCKETS_MS.length);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), (ms) => {
        const i = bucketOf(ms);
        expect(i === LATENCY_BUCKETS_MS.length || ms <= LATENCY_BUCKETS_MS[i]!).toBe(true);
        expect(i === 0 || ms > LATENCY_BUCKETS_MS[i - 1]!).toBe(true);
      }),
    );
  });

  it("reports quantiles inside the bucket that holds them, cumulative counts, and null when empty", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantileMs(0.99)).toBe(null);
    for (let i = 0; i < 98; i++) histogram.add(bucketOf(0.3), 0.3);
    histogram.add(bucketOf(40), 40);
    histogram.add(bucketOf(40), 40);
    const p50 = histogram.quantileMs(0.5)!;
    expect(p50).toBeGreaterThan(0.25);
    expect(p50).toBeLessThanOrEqual(0.5);
    const p99 = histogram.quantileMs(0.99)!;
    expect(p99).toBeGreaterThan(25);
    expect(p99).toBeLessThanOrEqual(50);
    expect(histogram.count).toBe(100);
    expect(histogram.sumMs).toBeCloseTo(98 * 0.3 + 80);
    const cumulative = histogram.cumulative();
    expect(cumulative).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
    expect(cumulative.at(-1)).toBe(100);
    expect(cumulative[bucketOf(0.3)]).toBe(98);
  });
});
