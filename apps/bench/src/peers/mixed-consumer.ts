import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { LatencyHistogram, type LatencySummary } from "../load/latency-histogram.js";
import { streamSource } from "../load/stream-source.js";
import { loadConsumerModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";
import { STREAM_HEADER } from "./stream-provider.js";

/** Small requests' latencies over one phase of the mixed scenario. */
export interface PhaseLatency {
  requests: number;
  errors: number;
  latency: LatencySummary;
}

/** What the mixed consumer announces. */
export interface MixedOutcome {
  /** Small requests alone on the connection. */
  idle: PhaseLatency;
  /** The same small requests while the large stream runs on the same connections. */
  busy: PhaseLatency;
  /** The large stream: bytes each way, and how long it took, ms. */
  streamBytes: number;
  streamMs: number;
  error?: string;
}

/** Body of every small request: 64 bytes, the other scenarios' default. */
const SMALL_BYTES = 64;

/**
 * The mixed scenario's consumer: one Consumer (one connection) that keeps `inflight` small requests
 * going — for `idleMs` alone (after `warmupMs`), then for as long as one stream of `bytes` each way
 * runs on the same connection to the same provider — and announces both phases' latencies.
 */
export async function runMixedConsumer(args: { address: string; channel: string; bytes: number; inflight: number; warmupMs: number; idleMs: number; timeoutMs: number }): Promise<void> {
  const { Consumer } = await loadConsumerModule();
  const consumer = await Consumer.connect(args.address, args.channel, { connectTimeout: 30_000, timeout: args.timeoutMs });
  const body = Buffer.alloc(SMALL_BYTES, 7);
  let phase: PhaseRecorder | null = null;
  let running = true;
  const lanes = Array.from({ length: args.inflight }, async () => {
    while (running) {
      const started = performance.now();
      // counted in the phase it completes in: one that waited on the stream counts as beside it
      try {
        const answer = await consumer.send(body, args.timeoutMs);
        if (answer.length !== SMALL_BYTES) throw new Error(`a small request got ${answer.length} bytes back`);
        phase?.record(performance.now() - started);
      } catch {
        if (phase !== null) phase.errors++;
        await sleep(10);
      }
    }
  });
  let outcome: MixedOutcome;
  try {
    await sleep(args.warmupMs);
    phase = new PhaseRecorder();
    await sleep(args.idleMs);
    const idle = phase.result();
    phase = new PhaseRecorder();
    const streamStarted = performance.now();
    let streamed = 0;
    let error: string | undefined;
    try {
      for await (const chunk of consumer.stream(streamSource(args.bytes), { timeout: args.timeoutMs, headers: { [STREAM_HEADER]: "1" } })) streamed += chunk.length;
      if (streamed !== args.bytes) error = `${streamed} bytes came back of ${args.bytes} sent`;
    } catch (failure) {
      error = (failure as Error).message;
    }
    const streamMs = performance.now() - streamStarted;
    // those sent while the stream ran and answered just after it count too (a short stream may end first)
    for (let waited = 0; phase.count === 0 && waited < 5000; waited += 10) await sleep(10);
    const busy = phase.result();
    outcome = { idle, busy, streamBytes: args.bytes, streamMs, ...(error === undefined ? {} : { error }) };
  } finally {
    running = false;
    await Promise.all(lanes);
    await consumer.close();
  }
  exitWithParent();
  announceReady({ ...outcome });
}

/** Counts one phase's requests into a histogram of its own. */
class PhaseRecorder {
  readonly #histogram = new LatencyHistogram();
  errors = 0;

  get count(): number {
    return this.#histogram.count;
  }

  record(ms: number): void {
    this.#histogram.recordMs(ms);
  }

  result(): PhaseLatency {
    return { requests: this.#histogram.count, errors: this.errors, latency: this.#histogram.summary() };
  }
}
