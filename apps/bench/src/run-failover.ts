import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_DRAIN_MS, drain } from "./load/closed-loop.js";
import type { Timing } from "./run-load.js";
import { emptyResult, type FailoverReport, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import type { BenchSystem, SystemContext } from "./systems/system.js";

/** Where in the measured window the broker is killed: a quarter in, so most of the window shows the fleet after. */
const KILL_AT = 0.25;

/** Pause after a failed request, so a failing lane does not spin a core. */
const ERROR_BACKOFF_MS = 1;

/**
 * The failover scenario: closed-loop load through a fleet (every consumer given every broker), and
 * a quarter into the measured window the broker with the most consumers is killed with SIGKILL.
 * It counts sends by outcome and, for each consumer that was on that broker, the time from the
 * kill to its first answer to a send started after it noticed the loss (the gap: an answer the
 * killed broker sent just before it died does not count). Expected failures: DISCONNECTED, of requests in flight
 * on the killed broker; any other failure fails the run, as does a consumer never answered again.
 */
export async function runFailover(scenario: Scenario, system: BenchSystem, context: SystemContext, timing: Timing, onProgress: (fraction: number) => void): Promise<RunResult> {
  const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
  const prepared = await system.prepare(scenario.shape, context);
  try {
    const fleet = prepared.fleet;
    if (fleet === undefined) return emptyResult({ ...base, status: "failed", reason: `${system.label} is not a fleet of brokers` });
    const payload = randomBytes(scenario.shape.payloadBytes);
    const before = fleet.connections();
    const users = fleet.brokers.map((broker) => before.filter((connection) => connection.broker === broker.address).length);
    const victim = fleet.brokers[users.indexOf(Math.max(...users))]!;
    const moved = new Set(before.flatMap((connection, index) => (connection.broker === victim.address ? [index] : [])));

    let measuring = false;
    let running = true;
    let killedAt = Number.POSITIVE_INFINITY;
    const firstAnswer = before.map(() => Number.POSITIVE_INFINITY);
    /** When each connection's request in flight on the killed broker failed: the loss noticed. */
    const noticed = before.map(() => Number.POSITIVE_INFINITY);
    const counts = { sent: 0, answered: 0, unexpected: 0, failedByCode: {} as Record<string, number> };
    const lane = async (send: (body: Buffer) => Promise<Uint8Array>, connection: number) => {
      while (running) {
        const counted = measuring;
        if (counted) counts.sent++;
        const started = performance.now();
        try {
          const reply = await send(payload);
          const at = performance.now();
          if (reply.length !== payload.length) throw new Error(`reply of ${reply.length} bytes to a request of ${payload.length}`);
          if (counted) counts.answered++;
          // A send started after the kill (and after this connection noticed it, if it did): one the
          // killed broker cannot have answered, whose reply may have been on its way when it died.
          const since = Number.isFinite(noticed[connection]!) ? noticed[connection]! : killedAt;
          if (started > since && at < firstAnswer[connection]!) firstAnswer[connection] = at;
        } catch (error) {
          const code = String((error as { code?: unknown }).code ?? (error as Error).message);
          noticed[connection] = Math.min(noticed[connection]!, performance.now());
          if (counted) {
            counts.failedByCode[code] = (counts.failedByCode[code] ?? 0) + 1;
            if (code !== "DISCONNECTED" || !moved.has(connection)) counts.unexpected++;
          }
          await sleep(ERROR_BACKOFF_MS);
        }
      }
    };
    const inflight = scenario.shape.inflight;
    const lanes = prepared.lanes.map((send, index) => lane(send, Math.floor(index / inflight)));

    const total = timing.warmupMs + timing.durationMs;
    const startedAt = performance.now();
    const progress = setInterval(() => onProgress(Math.min(1, (performance.now() - startedAt) / total)), 250);
    let windowStart = 0;
    let windowEnd = 0;
    try {
      await sleep(timing.warmupMs);
      measuring = true;
      windowStart = performance.now();
      await sleep(timing.durationMs * KILL_AT);
      killedAt = performance.now();
      await victim.kill();
      await sleep(Math.max(0, windowStart + timing.durationMs - performance.now()));
      measuring = false;
      windowEnd = performance.now();
    } finally {
      running = false;
      clearInterval(progress);
    }
    const stuck = await drain(lanes, DEFAULT_DRAIN_MS);

    const gaps = [...moved].map((connection) => firstAnswer[connection]! - killedAt).sort((a, b) => a - b);
    const finite = gaps.every(Number.isFinite);
    // The same measure for the consumers that stayed: what a stall of the machine or this process alone costs.
    const detected = [...moved].map((connection) => noticed[connection]! - killedAt).sort((a, b) => a - b);
    const stayed = firstAnswer.flatMap((at, connection) => (moved.has(connection) ? [] : [at - killedAt])).sort((a, b) => a - b);
    const report: FailoverReport = {
      killed: victim.address,
      brokers: fleet.brokers.length,
      consumers: before.length,
      moved: moved.size,
      ...counts,
      gapMs: { p50: finite ? gaps[Math.floor(gaps.length / 2)] : undefined, max: finite ? gaps.at(-1) : undefined },
      stayedGapMs: { p50: stayed[Math.floor(stayed.length / 2)], max: stayed.at(-1) },
      noticedMs: { p50: detected[Math.floor(detected.length / 2)], max: detected.at(-1) },
    };
    const reason =
      stuck > 0
        ? `${stuck} lane(s) still waiting for a reply after the window closed`
        : counts.unexpected > 0
          ? `${counts.unexpected} failure(s) other than DISCONNECTED of the killed broker's consumers: ${JSON.stringify(counts.failedByCode)}`
          : !finite
            ? `${gaps.filter((gap) => !Number.isFinite(gap)).length} of ${moved.size} moved consumers were never answered after the kill`
            : moved.size === 0
              ? "no consumer was on the killed broker"
              : undefined;
    const elapsedMs = windowEnd - windowStart;
    const requestsPerSecond = elapsedMs > 0 ? (counts.answered * 1000) / elapsedMs : 0;
    return {
      ...emptyResult({ ...base, status: reason === undefined ? "ok" : "failed", reason }),
      requests: counts.answered,
      errors: counts.sent - counts.answered,
      elapsedMs,
      requestsPerSecond,
      megabytesPerSecond: (requestsPerSecond * scenario.shape.payloadBytes) / 1e6,
      failover: report,
      serverLog: reason === undefined ? undefined : prepared.server.output?.(),
    };
  } finally {
    await prepared.close();
  }
}
