import * as hdr from "hdr-histogram-js";

/** Longest latency tracked: 2 minutes, in nanoseconds; longer ones are clamped to it. */
const HIGHEST_TRACKABLE_NS = 120e9;

/** Latency percentiles of one run, in microseconds. */
export interface LatencySummary {
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
}

/** An HdrHistogram of request latencies (nanosecond resolution, 3 significant digits). */
export class LatencyHistogram {
  readonly #histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_NS,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency, in milliseconds (as `performance.now()` differences come). */
  recordMs(ms: number): void {
    this.#histogram.recordValue(Math.min(HIGHEST_TRACKABLE_NS, Math.max(1, Math.round(ms * 1e6))));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  summary(): LatencySummary {
    const us = (ns: number) => ns / 1000;
    return {
      p50Us: us(this.#histogram.getValueAtPercentile(50)),
      p99Us: us(this.#histogram.getValueAtPercentile(99)),
      p999Us: us(this.#histogram.getValueAtPercentile(99.9)),
      maxUs: us(this.#histogram.maxValue),
      meanUs: us(this.#histogram.mean),
    };
  }
}
