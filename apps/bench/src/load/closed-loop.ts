import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { SendFn } from "../systems/system.js";
import { LatencyHistogram, type LatencySummary } from "./latency-histogram.js";

/** How long lanes get to finish their last request after the window closes before the run is torn down. */
export const DEFAULT_DRAIN_MS = 15_000;

/** Pause after a failed request, so a broken system fails a run without spinning a core. */
const ERROR_BACKOFF_MS = 10;

/** Timing of one run. */
export interface LoadWindow {
  /** Load before measuring (ms): connections, JIT and buffers settle; nothing is counted. */
  warmupMs: number;
  /** The measured window (ms). */
  durationMs: number;
  /** Records latencies into this histogram (several windows into one); default: a new one. */
  histogram?: LatencyHistogram;
  /** Called at the window's start and end, so process samples bracket exactly what is counted. */
  onWindowStart?(): void;
  onWindowEnd?(): void;
  /** Called every `progressIntervalMs` with the fraction of warm-up + duration elapsed. */
  onProgress?(fraction: number): void;
}

/** What one run measured. */
export interface LoadResult {
  /** Requests completed (and verified) inside the window. */
  requests: number;
  /** Requests that failed inside the window, or whose reply was not the request's bytes. */
  errors: number;
  firstError: string | undefined;
  /** Actual length of the window (ms). */
  elapsedMs: number;
  /** Of every latency in the histogram: this window's and, given `histogram`, earlier ones'. */
  latency: LatencySummary;
  /** Lanes that had not finished `DEFAULT_DRAIN_MS` after the window: a hung system. */
  stuckLanes: number;
}

type Phase = "warmup" | "measure" | "done";

/**
 * Closed-loop load: every lane sends a request, awaits the reply, and sends the next, until the
 * window closes. Only requests that complete inside the measured window count; their latency
 * (send to reply, in the bench process) goes into one histogram. Each lane's first reply is
 * compared byte for byte with the request, later ones by length.
 */
export async function runClosedLoop(lanes: SendFn[], payload: Buffer, window: LoadWindow): Promise<LoadResult> {
  const histogram = window.histogram ?? new LatencyHistogram();
  const recordedBefore = histogram.count;
  let phase: Phase = "warmup";
  let errors = 0;
  let firstError: string | undefined;
  const fail = (reason: string) => {
    if (phase !== "measure") return;
    errors++;
    firstError ??= reason;
  };

  const lane = async (send: SendFn) => {
    let verified = false;
    while (phase !== "done") {
      const started = performance.now();
      try {
        const reply = await send(payload);
        const ms = performance.now() - started;
        const problem = verified ? checkLength(reply, payload) : checkBytes(reply, payload);
        verified = true;
        if (problem !== undefined) fail(problem);
        else if (phase === "measure") histogram.recordMs(ms);
      } catch (err) {
        fail(describe(err));
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  };

  const startedAt = performance.now();
  const total = window.warmupMs + window.durationMs;
  const progress = setInterval(() => window.onProgress?.(Math.min(1, (performance.now() - startedAt) / total)), 250);
  const running = lanes.map(lane);
  let windowStart = 0;
  let windowEnd = 0;
  try {
    await sleep(window.warmupMs);
    window.onWindowStart?.();
    windowStart = performance.now();
    phase = "measure";
    await sleep(window.durationMs);
    phase = "done";
    windowEnd = performance.now();
    window.onWindowEnd?.();
  } finally {
    phase = "done";
    clearInterval(progress);
  }
  const stuckLanes = await drain(running, DEFAULT_DRAIN_MS);
  return { requests: histogram.count - recordedBefore, errors, firstError, elapsedMs: windowEnd - windowStart, latency: histogram.summary(), stuckLanes };
}

/** Waits for the lanes to finish; returns how many had not after `ms`. */
export async function drain(running: Promise<void>[], ms: number): Promise<number> {
  let finished = 0;
  for (const lane of running) void lane.then(() => finished++);
  const timer = new AbortController();
  await Promise.race([Promise.all(running), sleep(ms, undefined, { signal: timer.signal }).catch(() => {})]);
  timer.abort();
  return running.length - finished;
}

function checkLength(reply: Uint8Array, payload: Buffer): string | undefined {
  return reply.length === payload.length ? undefined : `reply of ${reply.length} bytes to a request of ${payload.length}`;
}

function checkBytes(reply: Uint8Array, payload: Buffer): string | undefined {
  return checkLength(reply, payload) ?? (payload.equals(reply) ? undefined : "reply bytes differ from the request's");
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return code === undefined ? `${err.name}: ${err.message}` : `${String(code)}: ${err.message}`;
}
