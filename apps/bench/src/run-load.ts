import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { runClosedLoop } from "./load/closed-loop.js";
import { type InProcessProfile, startInProcessProfile } from "./proc/in-process-profile.js";
import { ProcessMeter } from "./proc/process-meter.js";
import { emptyResult, type FleetBrokerReport, type ProcessReport, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import { peerProfilePath } from "./systems/start-peer.js";
import { brokerProfilePath, fleetBrokerContext } from "./systems/switchyard-broker.js";
import type { BenchSystem, FleetOfBrokers, Prepared, SystemContext } from "./systems/system.js";

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
  const fleetBrokers = prepared.fleet?.brokers.filter((broker) => broker.pid !== prepared.server.pid) ?? [];
  const processes = [prepared.server, ...fleetBrokers, ...prepared.others, { role: BENCH_ROLE, pid: process.pid }];
  const meter = new ProcessMeter(processes);
  const carried = new CarriedRequests(prepared.fleet);
  // With --cpu-prof the clients here are profiled over the measured window; the children over their life.
  const benchProfile = context.cpuProfileDir === undefined ? undefined : path.join(context.cpuProfileDir, `${context.runName}-bench.cpuprofile`);
  let profiling: Promise<InProcessProfile> | undefined;
  let load: Awaited<ReturnType<typeof runClosedLoop>>;
  try {
    load = await runClosedLoop(prepared.lanes, payload, {
      ...timing,
      onWindowStart: () => {
        meter.start();
        carried.start();
        if (benchProfile !== undefined) profiling = startInProcessProfile();
      },
      onWindowEnd: () => {
        meter.stop();
        carried.stop();
      },
      onProgress,
    });
  } finally {
    if (profiling !== undefined) await (await profiling).stop(benchProfile!);
    await prepared.close();
  }
  const seconds = load.elapsedMs / 1000;
  const requestsPerSecond = seconds > 0 ? load.requests / seconds : 0;
  const profiles: Record<string, string | undefined> = {
    [prepared.server.role]: system.name === "switchyard" ? brokerProfilePath(context) : undefined,
    ...Object.fromEntries((prepared.fleet?.brokers ?? []).map((broker, index) => [broker.role, brokerProfilePath(fleetBrokerContext(context, index))])),
    ...Object.fromEntries(prepared.others.map((other) => [other.role, peerProfilePath(context, other.pid)])),
    [BENCH_ROLE]: benchProfile,
  };
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
    ...serverReports(meter, prepared, carried, load.requests),
    others: prepared.others.flatMap((p) => meter.report(p.pid, load.requests) ?? []),
    bench: meter.report(process.pid, load.requests),
    serverLog: failure ? prepared.server.output?.() : undefined,
    profiles: Object.fromEntries(Object.entries(profiles).filter((entry): entry is [string, string] => entry[1] !== undefined && existsSync(entry[1]))),
  };
}

/** Requests each broker of a fleet carried in the window, from the consumers' counters read at its edges. */
class CarriedRequests {
  readonly #fleet: FleetOfBrokers | undefined;
  #before: ReturnType<FleetOfBrokers["connections"]> = [];
  #after: ReturnType<FleetOfBrokers["connections"]> = [];

  constructor(fleet: FleetOfBrokers | undefined) {
    this.#fleet = fleet;
  }

  start(): void {
    this.#before = this.#fleet?.connections() ?? [];
  }

  stop(): void {
    this.#after = this.#fleet?.connections() ?? [];
  }

  /** Requests sent through `address` in the window (a connection counts where it was at the end: they do not move in a load run). */
  through(address: string): number {
    return this.#after.reduce((sum, now, i) => (now.broker === address ? sum + now.requests - (this.#before[i]?.requests ?? 0) : sum), 0);
  }
}

/**
 * The measured process's report; of a fleet, its brokers together (CPU summed over all requests,
 * memory of the largest) and each broker with CPU per request it carried.
 */
function serverReports(meter: ProcessMeter, prepared: Prepared, carried: CarriedRequests, requests: number): { server?: ProcessReport; fleetBrokers?: FleetBrokerReport[] } {
  if (prepared.fleet === undefined) return { server: meter.report(prepared.server.pid, requests) };
  const fleetBrokers = prepared.fleet.brokers.flatMap((broker) => {
    const through = carried.through(broker.address);
    const report = meter.report(broker.pid, through);
    return report === undefined ? [] : [{ ...report, address: broker.address, requests: through }];
  });
  if (fleetBrokers.length === 0) return {};
  const cpuMs = fleetBrokers.reduce((sum, broker) => sum + broker.cpuMs, 0);
  const server: ProcessReport = {
    role: `${fleetBrokers.length} switchyard-brokers`,
    pid: prepared.server.pid,
    cpuMs,
    cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : undefined,
    rssMB: Math.max(...fleetBrokers.map((broker) => broker.rssMB)),
    peakRssMB: Math.max(...fleetBrokers.map((broker) => broker.peakRssMB)),
  };
  return { server, fleetBrokers };
}

/** A run fails when nothing completed, anything errored, or a lane hung. */
function describeFailure(requests: number, errors: number, stuckLanes: number, firstError: string | undefined): string | undefined {
  if (stuckLanes > 0) return `${stuckLanes} lane(s) still waiting for a reply after the window closed`;
  if (errors > 0) return `${errors} request(s) failed; first: ${firstError}`;
  if (requests === 0) return "no request completed in the measured window";
  return undefined;
}
