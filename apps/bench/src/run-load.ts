import { randomBytes } from "node:crypto";
import { LoadSession } from "./load-session.js";
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
 * whole `timing.warmupMs` before a system's first, at most 250 ms before the others). The figures of a system are the sums over its windows. A system that cannot be set
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
  // One at a time: each system's connection storm alone, as in a plain run.
  const opened: Array<LoadSession | RunResult> = [];
  for (const { system, context } of systems) {
    try {
      opened.push(await LoadSession.open(scenario, system, context, payload));
    } catch (err) {
      const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
      opened.push(emptyResult({ ...base, status: "failed", reason: (err as Error).message }));
    }
  }
  const sessions = opened.filter((entry): entry is LoadSession => entry instanceof LoadSession);
  const rounds = Math.max(1, Math.round(timing.durationMs / INTERLEAVED_WINDOW_MS));
  const durationMs = timing.durationMs / rounds;
  const total = rounds * sessions.length;
  try {
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < sessions.length; turn++) {
        const done = round * sessions.length + turn;
        const warmupMs = round === 0 ? timing.warmupMs : Math.min(timing.warmupMs, INTERLEAVED_REWARM_MS);
        await sessions[(round + turn) % sessions.length]!.measure({ warmupMs, durationMs, onProgress: (f) => onProgress((done + f) / total) });
      }
    }
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
  return opened.map((entry) => (entry instanceof LoadSession ? entry.result() : entry));
}
