import { eachBrokerCpuPerRequest, type RunResult } from "../run-result.js";
import { SYSTEMS } from "../systems/registry.js";
import type { SystemName } from "../systems/system.js";

/** Whether a target held in this run: undefined when it could not be judged (a run missing). */
export interface TargetOutcome {
  scenario: string;
  /** e.g. "req/s ≥ 2× NATS" */
  target: string;
  holds: boolean | undefined;
  /** The figures it was judged on, or why it was not. */
  detail: string;
}

type Metric = "requestsPerSecond" | "megabytesPerSecond" | "p50" | "serverCpuPerRequest" | "serverPeakRss" | "eachBrokerCpuPerRequest" | "clientCpuPerRequest" | "failoverGapMax" | "stoppedToIdleP99";

interface MetricInfo {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  read(result: RunResult): number | undefined;
}

const METRICS: Record<Metric, MetricInfo> = {
  requestsPerSecond: { label: "req/s", unit: "req/s", higherIsBetter: true, read: (r) => r.requestsPerSecond },
  megabytesPerSecond: { label: "MB/s", unit: "MB/s", higherIsBetter: true, read: (r) => r.megabytesPerSecond },
  p50: { label: "p50", unit: "µs", higherIsBetter: false, read: (r) => r.latency?.p50Us },
  serverCpuPerRequest: { label: "broker CPU/req", unit: "µs", higherIsBetter: false, read: (r) => r.server?.cpuUsPerRequest },
  serverPeakRss: { label: "broker peak RSS", unit: "MB", higherIsBetter: false, read: (r) => r.server?.peakRssMB },
  eachBrokerCpuPerRequest: { label: "each broker's CPU/req", unit: "µs", higherIsBetter: false, read: eachBrokerCpuPerRequest },
  clientCpuPerRequest: { label: "client CPU/req", unit: "µs", higherIsBetter: false, read: (r) => r.bench?.cpuUsPerRequest },
  failoverGapMax: { label: "failover gap (max)", unit: "ms", higherIsBetter: false, read: (r) => r.failover?.gapMs.max },
  // Issue 14's done-when: beside a stream whose reader stopped. Beside a running stream (the table's
  // "busy" columns) small requests queue behind each hop's window; the issue sets that no target.
  stoppedToIdleP99: {
    label: "small requests' p99 beside a stopped stream / alone",
    unit: "×",
    higherIsBetter: false,
    read: (r) => (r.mixed?.stopped === undefined || r.mixed.idle.latency.p99Us === 0 ? undefined : r.mixed.stopped.latency.p99Us / r.mixed.idle.latency.p99Us),
  },
};

/** One target from issue 5: ours compared with a peer (`factor` × the peer's figure), or with a bound. */
export type TargetSpec =
  | { scenario: string; metric: Metric; versus: SystemName; factor: number; strict?: boolean }
  | { scenario: string; metric: Metric; below: number };

/** Issue 5's targets (and issue 13's fleet ones), judged on every run's own figures. */
export const TARGETS: readonly TargetSpec[] = [
  { scenario: "throughput100", metric: "requestsPerSecond", versus: "nats", factor: 2 },
  { scenario: "throughput100", metric: "requestsPerSecond", versus: "zeromq", factor: 1 },
  { scenario: "throughput100", metric: "serverPeakRss", below: 100 },
  { scenario: "concurrent10", metric: "requestsPerSecond", versus: "nats", factor: 2 },
  { scenario: "concurrent10", metric: "requestsPerSecond", versus: "zeromq", factor: 1 },
  { scenario: "pipelined256", metric: "requestsPerSecond", versus: "nats", factor: 3 },
  { scenario: "pipelined256", metric: "requestsPerSecond", versus: "raw-relay", factor: 0.6 },
  { scenario: "pipelined256", metric: "serverCpuPerRequest", versus: "raw-relay", factor: 2 },
  { scenario: "pipelined256", metric: "serverCpuPerRequest", versus: "nats", factor: 1, strict: true },
  { scenario: "single", metric: "p50", versus: "nats", factor: 1 },
  { scenario: "large1MiB", metric: "megabytesPerSecond", versus: "nats", factor: 3 },
  { scenario: "large1MiB", metric: "megabytesPerSecond", versus: "raw-relay", factor: 0.8 },
  { scenario: "anet-pipelined", metric: "requestsPerSecond", versus: "raw-echo", factor: 0.7 },
  { scenario: "idle10k", metric: "serverPeakRss", below: 150 },
  // Issue 13's: a fleet costs no more per request than one broker, on either side, and a lost broker is a short gap.
  // Each broker is judged against one broker flat out (the issue's figure) and against as many lone
  // brokers sharing the load by hand (the like-for-like figure: see README "Benchmarks").
  { scenario: "fleet2", metric: "eachBrokerCpuPerRequest", versus: "switchyard", factor: 1.1 },
  { scenario: "fleet2", metric: "eachBrokerCpuPerRequest", versus: "switchyard-sharded", factor: 1.1 },
  { scenario: "fleet2", metric: "clientCpuPerRequest", versus: "switchyard", factor: 1.1 },
  { scenario: "fleet2", metric: "clientCpuPerRequest", versus: "switchyard-sharded", factor: 1.1 },
  { scenario: "failover", metric: "failoverGapMax", below: 1000 },
  // issue 14's
  { scenario: "stream1GiB", metric: "megabytesPerSecond", versus: "raw-relay", factor: 0.8 },
  { scenario: "mixed", metric: "stoppedToIdleP99", below: 2 },
];

/** Issue 12's targets of a `--tls` run: Switchyard over TLS against NATS over TLS. */
export const TLS_TARGETS: readonly TargetSpec[] = [
  { scenario: "throughput100", metric: "requestsPerSecond", versus: "nats-tls", factor: 2 },
  { scenario: "pipelined256", metric: "requestsPerSecond", versus: "nats-tls", factor: 2 },
];

/** Judges every target of `targets` (default: issue 5's) whose scenario is among `results`. */
export function judgeTargets(results: RunResult[], ours: (scenario: string) => SystemName | undefined, targets: readonly TargetSpec[] = TARGETS): TargetOutcome[] {
  return targets.flatMap((spec) => {
    const mine = ours(spec.scenario);
    if (mine === undefined) return [];
    const find = (system: SystemName) => results.find((r) => r.scenario === spec.scenario && r.system === system);
    return [judge(spec, find(mine), find)];
  });
}

function judge(spec: TargetSpec, mine: RunResult | undefined, find: (s: SystemName) => RunResult | undefined): TargetOutcome {
  const metric = METRICS[spec.metric];
  const comparator = metric.higherIsBetter ? "≥" : "strict" in spec && spec.strict ? "<" : "≤";
  const target =
    "below" in spec
      ? `${metric.label} < ${spec.below} ${metric.unit}`
      : `${metric.label} ${comparator} ${spec.factor === 1 ? "" : `${spec.factor}× `}${SYSTEMS[spec.versus].label}`;
  const outcome = (holds: boolean | undefined, detail: string) => ({ scenario: spec.scenario, target, holds, detail });
  const ourValue = usable(mine) ? metric.read(mine) : undefined;
  if (ourValue === undefined) return outcome(undefined, `no figure from us (${mine?.status ?? "not run"})`);
  if ("below" in spec) return outcome(ourValue < spec.below, `${format(ourValue)} ${metric.unit}`);
  const peer = find(spec.versus);
  const peerValue = usable(peer) ? metric.read(peer) : undefined;
  if (peerValue === undefined || peerValue === 0) return outcome(undefined, `no figure from ${SYSTEMS[spec.versus].label} (${peer?.status ?? "not run"})`);
  const bound = peerValue * spec.factor;
  const holds = metric.higherIsBetter ? ourValue >= bound : "strict" in spec && spec.strict ? ourValue < bound : ourValue <= bound;
  return outcome(holds, `${format(ourValue)} vs ${format(peerValue)} ${metric.unit}: ${(ourValue / peerValue).toFixed(2)}×`);
}

function usable(result: RunResult | undefined): result is RunResult {
  return result !== undefined && result.status === "ok";
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3);
}
