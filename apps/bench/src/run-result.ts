import type { LatencySummary } from "./load/latency-histogram.js";
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
  elapsedMs: number;
  requestsPerSecond: number;
  /** Body bytes per second one way (10^6 bytes): each request carries as many the other way. */
  megabytesPerSecond: number;
  latency?: LatencySummary;
  /** The process in the middle (broker, proxy, relay; the server when there is none). */
  server?: ProcessReport;
  others: ProcessReport[];
  /** The bench process itself, where every client runs. */
  bench?: ProcessReport;
  idle?: IdleReport;
  /** The last lines the measured process printed, when the run failed. */
  serverLog?: string;
  /** With --cpu-prof: the `.cpuprofile` of each process profiled, by role (broker, providers, bench). */
  profiles?: Record<string, string>;
}

/** A result for a run that did not happen or broke before measuring. */
export function emptyResult(base: Pick<RunResult, "scenario" | "system" | "label" | "shape" | "status" | "reason">): RunResult {
  return { ...base, requests: 0, errors: 0, elapsedMs: 0, requestsPerSecond: 0, megabytesPerSecond: 0, others: [] };
}
