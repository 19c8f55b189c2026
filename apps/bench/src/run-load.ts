import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { runClosedLoop } from "./load/closed-loop.js";
import { ProcessMeter } from "./proc/process-meter.js";
import { emptyResult, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import { brokerProfilePath } from "./systems/switchyard-broker.js";
import type { BenchSystem, SystemContext } from "./systems/system.js";

/** Warm-up and measured duration of every run, in ms. */
export interface Timing {
  warmupMs: number;
  durationMs: number;
}

const BENCH_ROLE = "bench (clients)";

/**
 * Runs one load scenario against one system: sets it up, drives the closed loop, brackets the
 * measured window with /proc samples of every process involved, and tears it all down.
 */
export async function runLoad(
  scenario: Scenario,
  system: BenchSystem,
  context: SystemContext,
  timing: Timing,
  onProgress: (fraction: number) => void,
): Promise<RunResult> {
  const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
  const prepared = await system.prepare(scenario.shape, context);
  const payload = randomBytes(scenario.shape.payloadBytes);
  const processes = [prepared.server, ...prepared.others, { role: BENCH_ROLE, pid: process.pid }];
  const meter = new ProcessMeter(processes);
  let load: Awaited<ReturnType<typeof runClosedLoop>>;
  try {
    load = await runClosedLoop(prepared.lanes, payload, {
      ...timing,
      onWindowStart: () => meter.start(),
      onWindowEnd: () => meter.stop(),
      onProgress,
    });
  } finally {
    await prepared.close();
  }
  const seconds = load.elapsedMs / 1000;
  const requestsPerSecond = seconds > 0 ? load.requests / seconds : 0;
  const profile = system.name === "switchyard" ? brokerProfilePath(context) : undefined;
  const failure = describeFailure(load.requests, load.errors, load.stuckLanes, load.firstError);
  return {
    ...emptyResult({ ...base, status: failure ? "failed" : "ok", reason: failure }),
    requests: load.requests,
    errors: load.errors,
    firstError: load.firstError,
    elapsedMs: load.elapsedMs,
    requestsPerSecond,
    megabytesPerSecond: (requestsPerSecond * scenario.shape.payloadBytes) / 1e6,
    latency: load.latency,
    server: meter.report(prepared.server.pid, load.requests),
    others: prepared.others.flatMap((p) => meter.report(p.pid, load.requests) ?? []),
    bench: meter.report(process.pid, load.requests),
    serverLog: failure ? prepared.server.output?.() : undefined,
    profile: profile !== undefined && existsSync(profile) ? profile : undefined,
  };
}

/** A run fails when nothing completed, anything errored, or a lane hung. */
function describeFailure(requests: number, errors: number, stuckLanes: number, firstError: string | undefined): string | undefined {
  if (stuckLanes > 0) return `${stuckLanes} lane(s) still waiting for a reply after the window closed`;
  if (errors > 0) return `${errors} request(s) failed; first: ${firstError}`;
  if (requests === 0) return "no request completed in the measured window";
  return undefined;
}
