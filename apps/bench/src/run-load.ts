import { randomBytes } from "node:crypto";
import { LatencyHistogram } from "./load/latency-histogram.js";
import { LoadSession } from "./load-session.js";
import { mergeRuns } from "./merge-runs.js";
import { emptyResult, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import type { BenchSystem, SystemContext } from "./systems/system.js";

/** Warm-up and measured duration of every run, in ms. */
export interface Timing {
  warmupMs: number;
  durationMs: number;
}

/** An interleaved run's windows last about this long each (ms). */
const INTERLEAVED_WINDOW_MS = 1000;
/** Uncounted load before each later window of an interleaved run (ms): the first gets the whole warm-up. */
const INTERLEAVED_REWARM_MS = 250;

/**
 * Runs one load scenario against one system: sets it up, drives the closed loop, brackets the
 * measured window with /proc samples of every process involved, and tears it all down.
 */
export async function runLoad(scenario: Scenario, system: BenchSystem, context: SystemContext, timing: Timing, onProgress: (fraction: number) => void): Promise<RunResult> {
  const session = await LoadSession.open(scenario, system, context, randomBytes(scenario.shape.payloadBytes));
  try {
    await session.measure({ ...timing, onProgress }, context.cpuProfileDir !== undefined);
  } finally {
    await session.close();
  }
  return session.result();
}

/**
 * Runs one load scenario against several systems set up side by side, measured in turns: each
 * system's `timing.durationMs` is split into windows of about a second, and the systems take turns
 * window by window, in an order that rotates every round, each window after uncounted load (the
 * whole `timing.warmupMs` before a system's first in a setup, at most 250 ms before the others).
 * The rounds are split evenly between two setups, the second in the reverse order (a run shorter
 * than two windows is one round of one setup): on this kind of machine the processes started earlier cost 5–20% more per request than
 * those started after them, even between two copies of one system, and reversing cancels that.
 * The figures of a system are the sums over both setups (mergeRuns). A system that cannot be set
 * up fails alone; the others run. (With --cpu-prof the children are profiled over their lives; the
 * clients here are not, as they span every system's windows.)
 */
export async function runInterleaved(
  scenario: Scenario,
  systems: Array<{ system: BenchSystem; context: SystemContext }>,
  timing: Timing,
  onProgress: (fraction: number) => void,
): Promise<RunResult[]> {
  const payload = randomBytes(scenario.shape.payloadBytes);
  // An even number of rounds, half in each setup; a run shorter than two windows is one round, one setup.
  const perSetup = Math.round(timing.durationMs / (2 * INTERLEAVED_WINDOW_MS));
  const halves = perSetup >= 1 ? [perSetup, perSetup] : [1];
  const rounds = halves.reduce((sum, each) => sum + each, 0);
  const windowMs = timing.durationMs / rounds;
  const histograms = systems.map(() => new LatencyHistogram());
  const turns = { done: 0, total: rounds * systems.length };
  const setups: RunResult[][] = [];
  for (const [half, roundsOfHalf] of halves.entries()) {
    const order = systems.map((_, index) => (half === 0 ? index : systems.length - 1 - index));
    // The second setup's processes get names of their own, so --cpu-prof writes a profile for each.
    const contexts = systems.map(({ context }) => (half === 0 ? context : { ...context, runName: `${context.runName}-2` }));
    setups.push(await runSetup(scenario, systems, contexts, order, histograms, payload, { ...timing, rounds: roundsOfHalf, windowMs }, turns, onProgress));
  }
  return systems.map((_, index) => setups.map((results) => results[index]!).reduce((merged, next) => mergeRuns(merged, next)));
}

/**
 * One setup of an interleaved run: the systems set up one at a time in `order` (each one's
 * connection storm alone, as in a plain run), measured `rounds` rounds in turns, closed. Results
 * in the systems' order.
 */
async function runSetup(
  scenario: Scenario,
  systems: Array<{ system: BenchSystem }>,
  contexts: SystemContext[],
  order: number[],
  histograms: LatencyHistogram[],
  payload: Buffer,
  timing: Timing & { rounds: number; windowMs: number },
  turns: { done: number; total: number },
  onProgress: (fraction: number) => void,
): Promise<RunResult[]> {
  const opened: Array<LoadSession | RunResult> = new Array(systems.length);
  for (const index of order) {
    const { system } = systems[index]!;
    try {
      opened[index] = await LoadSession.open(scenario, system, contexts[index]!, payload, histograms[index]);
    } catch (err) {
      const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
      opened[index] = emptyResult({ ...base, status: "failed", reason: (err as Error).message });
    }
  }
  const sessions = opened.filter((entry): entry is LoadSession => entry instanceof LoadSession);
  try {
    for (let round = 0; round < timing.rounds; round++) {
      for (let turn = 0; turn < sessions.length; turn++) {
        const done = turns.done++;
        const warmupMs = round === 0 ? timing.warmupMs : Math.min(timing.warmupMs, INTERLEAVED_REWARM_MS);
        await sessions[(round + turn) % sessions.length]!.measure({ warmupMs, durationMs: timing.windowMs, onProgress: (f) => onProgress((done + f) / turns.total) });
      }
    }
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
  return opened.map((entry) => (entry instanceof LoadSession ? entry.result() : entry));
}
