/**
 * Upper bounds of the request-duration buckets, in ms (the last bucket, +Inf, is implicit): from
 * 50 µs, which a loopback round trip through the broker can beat, to 10 s, past the default deadline.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

const BUCKETS = LATENCY_BUCKETS_MS.length + 1;

/**
 * Counts of request durations in LATENCY_BUCKETS_MS buckets: the router adds one completed request
 * with `add(bucketOf(ms), ms)` (no allocation, a few comparisons); quantiles and Prometheus buckets
 * are worked out when someone asks.
 *
 *   counts[i] = durations d with LATENCY_BUCKETS_MS[i-1] < d ≤ LATENCY_BUCKETS_MS[i]; counts[last]: d > 10 s
 */
export class LatencyHistogram {
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts = new Float64Array(BUCKETS);
  /** Completed requests counted. */
  count = 0;
  /** Sum of their durations, ms. */
  sumMs = 0;

  /** Counts one duration of `ms` that falls in bucket `index` (from bucketOf). */
  add(index: number, ms: number): void {
    this.counts[index]!++;
    this.count++;
    this.sumMs += ms;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sumMs += other.sumMs;
  }

  /** Cumulative counts per upper bound, Prometheus's `le` buckets (the last is +Inf). */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (let i = 0; i < BUCKETS; i++) {
      total += this.counts[i]!;
      out.push(total);
    }
    return out;
  }

  /**
   * The duration below which a fraction `q` (0..1) of the counted requests fall, in ms,
   * interpolated linearly inside its bucket; null when nothing was counted. A request over 10 s
   * reports 10 s (the +Inf bucket has no upper bound to interpolate to).
   */
  quantileMs(q: number): number | null {
    return quantileOf(this.counts, q);
  }
}

/** The bucket a duration of `ms` falls in. */
export function bucketOf(ms: number): number {
  const bounds = LATENCY_BUCKETS_MS;
  let i = 0;
  while (i < bounds.length && ms > bounds[i]!) i++;
  return i;
}

/** quantileMs over raw per-bucket counts (e.g. the difference of two snapshots). */
export function quantileOf(counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (inBucket > 0 && seen + inBucket >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = LATENCY_BUCKETS_MS[i] ?? lower;
      return lower + ((upper - lower) * (rank - seen)) / inBucket;
    }
    seen += inBucket;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}
