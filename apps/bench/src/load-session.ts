import { existsSync } from "node:fs";
import path from "node:path";
import { runClosedLoop } from "./load/closed-loop.js";
import { LatencyHistogram } from "./load/latency-histogram.js";
import { type InProcessProfile, startInProcessProfile } from "./proc/in-process-profile.js";
import { ProcessMeter } from "./proc/process-meter.js";
import { emptyResult, type FleetBrokerReport, type ProcessReport, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import { peerProfilePath } from "./systems/start-peer.js";
import { brokerProfilePath, fleetBrokerContext } from "./systems/switchyard-broker.js";
import type { BenchSystem, FleetOfBrokers, Prepared, SystemContext } from "./systems/system.js";

const BENCH_ROLE = "bench (clients)";

/** One measured window: load for `warmupMs` uncounted, then `durationMs` counted. */
export interface LoadSlice {
  warmupMs: number;
  durationMs: number;
  onProgress?(fraction: number): void;
}

/**
 * One system set up for a load scenario, measured over one or more windows whose figures add up:
 * requests, errors and latencies of every window; CPU, sleeps and system calls of every process
 * inside the windows only. One window is a plain run; several, taken in turn with other systems'
 * sessions, make an interleaved run, where a machine whose speed drifts (a shared host) slows every
 * system alike instead of whichever ran last.
 */
export class LoadSession {
  readonly #scenario: Scenario;
  readonly #system: BenchSystem;
  readonly #context: SystemContext;
  readonly #prepared: Prepared;
  readonly #payload: Buffer;
  readonly #meter: ProcessMeter;
  readonly #carried: CarriedRequests;
  readonly #histogram: LatencyHistogram;
  #requests = 0;
  #errors = 0;
  #firstError: string | undefined;
  #stuckLanes = 0;
  #elapsedMs = 0;
  #windows = 0;

  private constructor(scenario: Scenario, system: BenchSystem, context: SystemContext, prepared: Prepared, payload: Buffer, histogram: LatencyHistogram) {
    this.#scenario = scenario;
    this.#histogram = histogram;
    this.#system = system;
    this.#context = context;
    this.#prepared = prepared;
    this.#payload = payload;
    const fleetBrokers = prepared.fleet?.brokers.filter((broker) => broker.pid !== prepared.server.pid) ?? [];
    this.#meter = new ProcessMeter([prepared.server, ...fleetBrokers, ...prepared.others, { role: BENCH_ROLE, pid: process.pid }]);
    this.#carried = new CarriedRequests(prepared.fleet);
  }

  /**
   * Sets the system up (its processes started, its clients connected). `histogram`: where its
   * latencies go, to share one with another session of the same system; default a new one.
   */
  static async open(scenario: Scenario, system: BenchSystem, context: SystemContext, payload: Buffer, histogram = new LatencyHistogram()): Promise<LoadSession> {
    return new LoadSession(scenario, system, context, await system.prepare(scenario.shape, context), payload, histogram);
  }

  /**
   * Drives the closed loop for one window and adds what it measured. `profile`: record this
   * process's CPU profile over the window (a plain run with --cpu-prof).
   */
  async measure(slice: LoadSlice, profile = false): Promise<void> {
    let profiling: Promise<InProcessProfile> | undefined;
    try {
      const load = await runClosedLoop(this.#prepared.lanes, this.#payload, {
        ...slice,
        histogram: this.#histogram,
        onWindowStart: () => {
          this.#meter.start();
          this.#carried.start();
          if (profile) profiling = startInProcessProfile();
        },
        onWindowEnd: () => {
          this.#meter.stop();
          this.#carried.stop();
        },
      });
      this.#windows++;
      this.#requests += load.requests;
      this.#errors += load.errors;
      this.#firstError ??= load.firstError;
      this.#stuckLanes += load.stuckLanes;
      this.#elapsedMs += load.elapsedMs;
    } finally {
      if (profiling !== undefined) await (await profiling).stop(this.#benchProfile()!);
    }
  }

  /** Stops the clients and the system's processes. */
  close(): Promise<void> {
    return this.#prepared.close();
  }

  /** The run's result, over every window measured. */
  result(): RunResult {
    const base = { scenario: this.#scenario.name, system: this.#system.name, label: this.#system.label, shape: this.#scenario.shape };
    const seconds = this.#elapsedMs / 1000;
    const requestsPerSecond = seconds > 0 ? this.#requests / seconds : 0;
    const failure = describeFailure(this.#requests, this.#errors, this.#stuckLanes, this.#firstError);
    const context = this.#context;
    const profiles: Record<string, string | undefined> = {
      [this.#prepared.server.role]: this.#system.name === "switchyard" ? brokerProfilePath(context) : undefined,
      ...Object.fromEntries((this.#prepared.fleet?.brokers ?? []).map((broker, index) => [broker.role, brokerProfilePath(fleetBrokerContext(context, index))])),
      ...Object.fromEntries(this.#prepared.others.map((other) => [other.role, peerProfilePath(context, other.pid)])),
      [BENCH_ROLE]: this.#benchProfile(),
    };
    return {
      ...emptyResult({ ...base, status: failure ? "failed" : "ok", reason: failure }),
      requests: this.#requests,
      errors: this.#errors,
      firstError: this.#firstError,
      elapsedMs: this.#elapsedMs,
      windows: this.#windows,
      requestsPerSecond,
      megabytesPerSecond: (requestsPerSecond * this.#scenario.shape.payloadBytes) / 1e6,
      latency: this.#histogram.summary(),
      ...this.#serverReports(),
      others: this.#prepared.others.flatMap((p) => this.#meter.report(p.pid, this.#requests) ?? []),
      bench: this.#meter.report(process.pid, this.#requests),
      serverLog: failure ? this.#prepared.server.output?.() : undefined,
      profiles: Object.fromEntries(Object.entries(profiles).filter((entry): entry is [string, string] => entry[1] !== undefined && existsSync(entry[1]))),
    };
  }

  /** With --cpu-prof: where the profile of the clients here goes. */
  #benchProfile(): string | undefined {
    return this.#context.cpuProfileDir === undefined ? undefined : path.join(this.#context.cpuProfileDir, `${this.#context.runName}-bench.cpuprofile`);
  }

  /**
   * The measured process's report; of a fleet, its brokers together (CPU summed over all requests,
   * memory of the largest) and each broker with CPU per request it carried.
   */
  #serverReports(): { server?: ProcessReport; fleetBrokers?: FleetBrokerReport[] } {
    const prepared = this.#prepared;
    if (prepared.fleet === undefined) return { server: this.#meter.report(prepared.server.pid, this.#requests) };
    const fleetBrokers = prepared.fleet.brokers.flatMap((broker) => {
      const through = this.#carried.through(broker.address);
      const report = this.#meter.report(broker.pid, through);
      return report === undefined ? [] : [{ ...report, address: broker.address, requests: through }];
    });
    if (fleetBrokers.length === 0) return {};
    const cpuMs = fleetBrokers.reduce((sum, broker) => sum + broker.cpuMs, 0);
    const server: ProcessReport = {
      role: `${fleetBrokers.length} switchyard-brokers`,
      pid: prepared.server.pid,
      cpuMs,
      cpuUsPerRequest: this.#requests > 0 ? (cpuMs * 1000) / this.#requests : undefined,
      rssMB: Math.max(...fleetBrokers.map((broker) => broker.rssMB)),
      peakRssMB: Math.max(...fleetBrokers.map((broker) => broker.peakRssMB)),
    };
    return { server, fleetBrokers };
  }
}

/** Requests each broker of a fleet carried in the windows, from the consumers' counters read at their edges. */
class CarriedRequests {
  readonly #fleet: FleetOfBrokers | undefined;
  readonly #carried = new Map<string, number>();
  #before: ReturnType<FleetOfBrokers["connections"]> = [];

  constructor(fleet: FleetOfBrokers | undefined) {
    this.#fleet = fleet;
  }

  start(): void {
    this.#before = this.#fleet?.connections() ?? [];
  }

  /** Adds the window's requests to the broker each connection sent through (at the window's end: they do not move in a load run). */
  stop(): void {
    for (const [i, now] of (this.#fleet?.connections() ?? []).entries()) {
      if (now.broker === null) continue;
      this.#carried.set(now.broker, (this.#carried.get(now.broker) ?? 0) + now.requests - (this.#before[i]?.requests ?? 0));
    }
  }

  /** Requests sent through `address` in every window so far. */
  through(address: string): number {
    return this.#carried.get(address) ?? 0;
  }
}

/** A run fails when nothing completed, anything errored, or a lane hung. */
function describeFailure(requests: number, errors: number, stuckLanes: number, firstError: string | undefined): string | undefined {
  if (stuckLanes > 0) return `${stuckLanes} lane(s) still waiting for a reply after the window closed`;
  if (errors > 0) return `${errors} request(s) failed; first: ${firstError}`;
  if (requests === 0) return "no request completed in the measured window";
  return undefined;
}
