import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { LatencyHistogram, type LatencySummary } from "../load/latency-histogram.js";
import { streamSource } from "../load/stream-source.js";
import type { Consumer } from "@switchyard/client-consumer";
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
  /**
   * The same small requests beside a stream whose reader has stopped: it stays in flight, stalled
   * once every hop's window is full (issue 14's "a stream whose reader stops does not delay small
   * requests"). Absent when the run failed before this phase.
   */
  stopped?: StoppedPhase;
  /** The large stream: bytes each way, and how long it took, ms. */
  streamBytes: number;
  streamMs: number;
  error?: string;
}

/** The phase beside a stopped reader, and how much of that stream was sent before it stalled. */
export interface StoppedPhase extends PhaseLatency {
  /** Bytes the stalled stream's source had given up when the phase began and when it ended. */
  sentAtStart: number;
  sentAtEnd: number;
}

/**
 * Bytes offered by the stream whose reader stops: far more than every hop's windows and socket
 * buffers hold, so that it stalls, whatever `--payload` says (it is cancelled, never sent whole).
 */
const STOPPED_STREAM_BYTES = 1024 * 1024 * 1024;

/** The stopped stream counts as stalled once its source has given nothing for this long, ms. */
const STALL_QUIET_MS = 300;

/** Longest wait for the stopped stream to stall, ms: past it the phase is measured all the same and says how much was sent meanwhile. */
const STALL_WAIT_MS = 10_000;

/** Body of every small request: 64 bytes, the other scenarios' default. */
const SMALL_BYTES = 64;

/**
 * The mixed scenario's consumer: one Consumer (one connection) that keeps `inflight` small requests
 * going — for `idleMs` alone (after `warmupMs`), then for as long as one stream of `bytes` each way
 * runs on the same connection to the same provider, then for `idleMs` beside a stream whose reader
 * has stopped — and announces the three phases' latencies.
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
    let stopped: StoppedPhase | undefined;
    if (error === undefined) {
      try {
        stopped = await besideStoppedReader(consumer, () => (phase = new PhaseRecorder()), args);
        if (stopped.sentAtEnd >= STOPPED_STREAM_BYTES) error = "the stream whose reader stopped was sent whole: nothing paced it";
      } catch (failure) {
        error = `the stream whose reader stopped: ${(failure as Error).message}`;
      }
    }
    outcome = { idle, busy, ...(stopped === undefined ? {} : { stopped }), streamBytes: args.bytes, streamMs, ...(error === undefined ? {} : { error }) };
  } finally {
    running = false;
    await Promise.all(lanes);
    await consumer.close();
  }
  exitWithParent();
  announceReady({ ...outcome });
}

/**
 * Starts a stream whose reader takes one chunk of the response and then stops, waits until it has
 * stalled (its source has given nothing for STALL_QUIET_MS: every window on the way is full), then
 * measures the small requests for `idleMs` beside it, still in flight, and cancels it.
 */
async function besideStoppedReader(consumer: Consumer, startPhase: () => PhaseRecorder, args: { idleMs: number; timeoutMs: number }): Promise<StoppedPhase> {
  let sent = 0;
  const source = (async function* counted() {
    for await (const piece of streamSource(STOPPED_STREAM_BYTES)) {
      sent += piece.length;
      yield piece;
    }
  })();
  const response = consumer.stream(source, { timeout: args.timeoutMs + args.idleMs + STALL_WAIT_MS, headers: { [STREAM_HEADER]: "1" } });
  try {
    const first = await response.next(); // the reader takes one chunk, then stops
    if (first.done === true) throw new Error("it ended before its reader stopped");
    for (let seen = -1, waited = 0; sent !== seen && waited < STALL_WAIT_MS; waited += STALL_QUIET_MS) {
      seen = sent;
      await sleep(STALL_QUIET_MS);
    }
    const sentAtStart = sent;
    const phase = startPhase();
    await sleep(args.idleMs);
    return { ...phase.result(), sentAtStart, sentAtEnd: sent };
  } finally {
    await response.return?.(); // leaving early cancels the request
  }
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
