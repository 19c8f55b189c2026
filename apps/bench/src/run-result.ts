import type { LatencySummary } from "./load/latency-histogram.js";
import type { MixedOutcome } from "./peers/mixed-consumer.js";
import type { Shape } from "./scenarios.js";
import type { SystemName } from "./systems/system.js";

/** CPU and memory of one process over one run. */
export interface ProcessReport {
  role: string;
  pid: number;
  /** CPU time (user + system) spent inside the measured window, in ms. */
  cpuMs: number;
  /** cpuMs per request completed in the window, in µs. */
  cpuUsPerRequest: number | undefined;
  /** Resident set at the window's end, in MB (10^6 bytes). */
  rssMB: number;
  /** Peak resident set over the process's life (it lives for this run only), in MB. */
  peakRssMB: number;
  /**
   * Times it slept waiting for work (voluntary context switches) per request. A busy process finds
   * work waiting and rarely sleeps; one with time to spare sleeps between requests, and each wake-up
   * costs CPU (in the kernel of whoever wakes it, and in cold caches of its own).
   */
  sleepsPerRequest?: number;
  /** Read and write system calls per request: how well it batches (undefined where /proc/<pid>/io cannot be read). */
  syscallsPerRequest?: number;
}

/** What the idle scenario adds. */
export interface IdleReport {
  requested: number;
  connected: number;
  failed: number;
  firstError: string | undefined;
  /** Wall time to connect them all (ms). */
  connectMs: number;
  probes: number;
  probesOk: number;
  /** The open-file limit the children got, and whether it covered the request. */
  openFileLimit: number;
}

/** One broker of a fleet over one run: its process, and CPU per request it carried. */
export interface FleetBrokerReport extends ProcessReport {
  /** The address clients dial. */
  address: string;
  /** Requests sent through it inside the window (by the consumers' own counters). */
  requests: number;
}

/** What the failover scenario measures. */
export interface FailoverReport {
  /** The broker killed with SIGKILL, and the brokers of the fleet. */
  killed: string;
  brokers: number;
  consumers: number;
  /** Consumers that were sending through the killed broker. */
  moved: number;
  /** Sends inside the window: started, answered, failed by error code. */
  sent: number;
  answered: number;
  failedByCode: Record<string, number>;
  /** Failures that are not DISCONNECTED of a consumer of the killed broker: none is expected. */
  unexpected: number;
  /**
   * Ms from the kill to each moved consumer's first answer to a send started after it noticed the
   * loss: median and largest (undefined if one never got one).
   */
  gapMs: { p50: number | undefined; max: number | undefined };
  /** The same for each consumer that was not on the killed broker (a send started after the kill): what a stall of the machine alone shows. */
  stayedGapMs: { p50: number | undefined; max: number | undefined };
  /** Ms from the kill to each moved consumer's request in flight failing (the loss noticed): the first part of its gap. */
  noticedMs: { p50: number | undefined; max: number | undefined };
}

/** What stream1GiB adds: the bytes each way, and the consumer's peak RSS (the others' are in server/others). */
export interface StreamReport {
  bytes: number;
  consumerPeakRssMB: number;
}

/** One system in one scenario. */
export interface RunResult {
  scenario: string;
  system: SystemName;
  label: string;
  shape: Shape;
  /** "skipped": not run here (reason says why); "failed": it ran and broke (reason says how). */
  status: "ok" | "failed" | "skipped";
  reason?: string;
  requests: number;
  errors: number;
  firstError?: string;
  /** The measured time: of an interleaved run, its windows' summed. */
  elapsedMs: number;
  /** Measured windows: 1 for a plain run, one per round for an interleaved one (load runs only). */
  windows?: number;
  requestsPerSecond: number;
  /** Body bytes per second one way (10^6 bytes): each request carries as many the other way. */
  megabytesPerSecond: number;
  latency?: LatencySummary;
  /** The process in the middle (broker, proxy, relay; the server when there is none); of a fleet, its brokers together. */
  server?: ProcessReport;
  /** Of a fleet: each broker, with CPU per request it carried. */
  fleetBrokers?: FleetBrokerReport[];
  failover?: FailoverReport;
  others: ProcessReport[];
  /** The bench process itself, where every client runs. */
  bench?: ProcessReport;
  idle?: IdleReport;
  stream?: StreamReport;
  /** The mixed scenario: small requests' latencies alone and while the stream ran. */
  mixed?: MixedOutcome;
  /** The last lines the measured process printed, when the run failed. */
  serverLog?: string;
  /** With --cpu-prof: the `.cpuprofile` of each process profiled, by role (broker, providers, bench). */
  profiles?: Record<string, string>;
}

/**
 * Of a run of several brokers, the highest CPU per request any of them carried (undefined if one has
 * no figure); of one broker, its own.
 */
export function eachBrokerCpuPerRequest(result: RunResult): number | undefined {
  if (result.fleetBrokers === undefined) return result.server?.cpuUsPerRequest;
  const figures = result.fleetBrokers.map((b) => b.cpuUsPerRequest);
  return figures.length === 0 || figures.includes(undefined) ? undefined : Math.max(...(figures as number[]));
}

/** A result for a run that did not happen or broke before measuring. */
export function emptyResult(base: Pick<RunResult, "scenario" | "system" | "label" | "shape" | "status" | "reason">): RunResult {
  return { ...base, requests: 0, errors: 0, elapsedMs: 0, requestsPerSecond: 0, megabytesPerSecond: 0, others: [] };
}
