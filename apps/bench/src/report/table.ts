import { eachBrokerCpuPerRequest, type RunResult } from "../run-result.js";
import { describeShape, type Scenario } from "../scenarios.js";
import { columns, compact, ratio } from "./format.js";
import type { TargetOutcome } from "./targets.js";

const LOAD_HEADER = ["system", "req/s", "ours/peer", "p50 µs", "p99 µs", "p999 µs", "MB/s", "errors", "measured process", "CPU µs/req", "peak RSS MB", "responders CPU µs/req", "bench CPU µs/req"];
const LOAD_RIGHT = [false, true, true, true, true, true, true, true, false, true, true, true, true];

const STREAM_HEADER = ["system", "MB/s (one way)", "ours/peer", "seconds", "consumer peak RSS MB", "middle", "peak RSS MB", "behind", "peak RSS MB"];
const STREAM_RIGHT = [false, true, true, true, true, false, true, false, true];

// "running": beside the stream as it runs; "stopped": beside a stream whose reader stopped (the judged one).
const MIXED_HEADER = ["system", "idle p50 µs", "idle p99 µs", "running p50 µs", "running p99 µs", "p99 running/idle", "stopped p50 µs", "stopped p99 µs", "p99 stopped/idle", "small req idle/running/stopped", "stream MB/s", "stream s"];
const MIXED_RIGHT = [false, true, true, true, true, true, true, true, true, true, true, true];

const IDLE_HEADER = ["system", "connected", "connect s", "measured process", "RSS MB", "peak RSS MB", "idle CPU ms", "probes ok", "clients RSS MB"];
const IDLE_RIGHT = [false, true, true, false, true, true, true, true, true];

/**
 * The terminal report of one scenario: our figures and each peer's side by side with the ratio
 * ours/peer (of requests/s, the same ratio as MB/s), then every target judged on this run. CPU per
 * request is shown for the process in the middle, the responders behind it (providers, NATS
 * responders, ZeroMQ workers, the relay's echo server) and the bench process, where every client runs.
 */
export function scenarioTable(scenario: Scenario, results: RunResult[], targets: TargetOutcome[]): string {
  const title = `${scenario.name} — ${scenario.description} (${describeShape(scenario)})`;
  const rows = { load: loadRows, idle: idleRows, failover: failoverRows, stream: streamRows, mixed: mixedRows }[scenario.kind];
  const body = rows(scenario, results);
  const notes = [
    ...results.flatMap((r) => fleetLines(r, results)),
    ...results.flatMap(stoppedStreamLines),
    ...results.filter((r) => r.status !== "ok").map((r) => `  ${r.label}: ${r.status} — ${oneLine(r.reason)}`),
  ];
  const verdicts = targets.map((t) => `  ${t.holds === undefined ? "–" : t.holds ? "✓" : "✗"} ${t.target}: ${t.detail}`);
  return [title, body, ...notes, ...verdicts].join("\n");
}

function loadRows(scenario: Scenario, results: RunResult[]): string {
  const ours = results.find((r) => r.system === scenario.ours && r.status === "ok");
  const rows = results
    .filter((r) => r.status !== "skipped")
    .map((r) => [
      r.label,
      compact(r.requestsPerSecond),
      r === ours ? "—" : ratio(ours?.requestsPerSecond, r.status === "ok" ? r.requestsPerSecond : undefined),
      compact(r.latency?.p50Us),
      compact(r.latency?.p99Us),
      compact(r.latency?.p999Us),
      compact(r.megabytesPerSecond),
      String(r.errors),
      r.server?.role ?? "–",
      compact(r.server?.cpuUsPerRequest),
      compact(r.server?.peakRssMB),
      r.others.length > 0 ? compact(r.others.reduce((sum, o) => sum + (o.cpuUsPerRequest ?? 0), 0)) : "–",
      compact(r.bench?.cpuUsPerRequest),
    ]);
  return columns([LOAD_HEADER, ...rows], LOAD_RIGHT);
}

const FAILOVER_HEADER = ["system", "brokers", "killed", "consumers moved", "sent", "answered", "failed by code", "noticed max ms", "gap p50 ms", "gap max ms", "others' gap max ms", "req/s"];
const FAILOVER_RIGHT = [false, true, false, true, true, true, false, true, true, true, true, true];

function failoverRows(_scenario: Scenario, results: RunResult[]): string {
  const rows = results
    .filter((r) => r.failover !== undefined)
    .map((r) => {
      const f = r.failover!;
      const failed = Object.entries(f.failedByCode).map(([code, n]) => `${n} ${code}`).join(", ") || "0";
      return [r.label, String(f.brokers), f.killed, `${f.moved}/${f.consumers}`, String(f.sent), String(f.answered), failed, compact(f.noticedMs.max), compact(f.gapMs.p50), compact(f.gapMs.max), compact(f.stayedGapMs.max), compact(r.requestsPerSecond)];
    });
  return rows.length > 0 ? columns([FAILOVER_HEADER, ...rows], FAILOVER_RIGHT) : "  (no run)";
}

/**
 * Under a row of several brokers (the fleet, the sharded brokers): each broker's share and CPU per
 * request it carried, beside one broker's flat out and, for the fleet, the sharded brokers' (each
 * carrying the same share on a machine as busy), with the sleeps per request that tell a broker with
 * time to spare from a busy one; then the clients' CPU beside the one-broker clients'.
 */
function fleetLines(result: RunResult, results: RunResult[]): string[] {
  if (result.fleetBrokers === undefined || result.failover !== undefined) return [];
  const flatOut = results.find((one) => one.system === "switchyard" && one.status === "ok");
  const sharded = result.system === "switchyard-sharded" ? undefined : results.find((one) => one.system === "switchyard-sharded" && one.status === "ok");
  const shardedCpu = sharded === undefined ? undefined : eachBrokerCpuPerRequest(sharded);
  const comparisons = (cpu: number | undefined) =>
    [
      flatOut === undefined ? undefined : `${ratio(cpu, flatOut.server?.cpuUsPerRequest)} one broker's flat out (${compact(flatOut.server?.cpuUsPerRequest)})`,
      shardedCpu === undefined ? undefined : `${ratio(cpu, shardedCpu)} the sharded brokers' highest (${compact(shardedCpu)})`,
    ].filter((text) => text !== undefined);
  const flatOutSleeps = flatOut === undefined ? "" : ` (one broker flat out ${sleepsPer(flatOut.server?.sleepsPerRequest)})`;
  const brokers = result.fleetBrokers.map((b) => {
    const versus = comparisons(b.cpuUsPerRequest);
    const share = `${compact(b.requests)} requests (${Math.round((100 * b.requests) / Math.max(1, result.requests))}%)`;
    return `  ${result.label}, ${b.role} (${b.address}): ${share}, CPU ${compact(b.cpuUsPerRequest)} µs per request it carried${versus.length === 0 ? "" : `: ${versus.join(", ")}`}; sleeps ${sleepsPer(b.sleepsPerRequest)} per request${flatOutSleeps}`;
  });
  const clientCpu = result.bench?.cpuUsPerRequest;
  const clientVersus = [
    flatOut?.bench === undefined ? undefined : `${ratio(clientCpu, flatOut.bench.cpuUsPerRequest)} the one-broker clients' ${compact(flatOut.bench.cpuUsPerRequest)}`,
    sharded?.bench === undefined ? undefined : `${ratio(clientCpu, sharded.bench.cpuUsPerRequest)} the sharded clients' ${compact(sharded.bench.cpuUsPerRequest)}`,
  ].filter((text) => text !== undefined);
  const client = `  ${result.label}, clients (bench process): CPU ${compact(clientCpu)} µs/req${clientVersus.length === 0 ? "" : ` (${clientVersus.join(", ")})`}`;
  return [...brokers, client];
}

const sleepsPer = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(3));

function streamRows(scenario: Scenario, results: RunResult[]): string {
  const ours = results.find((r) => r.system === scenario.ours && r.status === "ok");
  const rows = results
    .filter((r) => r.status !== "skipped")
    .map((r) => {
      const behind = r.others.find((o) => o.role !== "consumer");
      const consumer = r.stream?.consumerPeakRssMB ?? r.others.find((o) => o.role === "consumer")?.peakRssMB;
      return [
        r.label,
        compact(r.megabytesPerSecond),
        r === ours ? "—" : ratio(ours?.megabytesPerSecond, r.status === "ok" ? r.megabytesPerSecond : undefined),
        compact(r.elapsedMs / 1000),
        compact(consumer),
        r.server?.role ?? "–",
        compact(r.server?.peakRssMB),
        behind?.role ?? "–",
        compact(behind?.peakRssMB),
      ];
    });
  return columns([STREAM_HEADER, ...rows], STREAM_RIGHT);
}

function mixedRows(_scenario: Scenario, results: RunResult[]): string {
  const rows = results
    .filter((r) => r.mixed !== undefined)
    .map((r) => {
      const { idle, busy, stopped, streamMs } = r.mixed!;
      const toIdle = (p99Us: number | undefined) => (p99Us !== undefined && idle.latency.p99Us > 0 ? `${(p99Us / idle.latency.p99Us).toFixed(2)}×` : "–");
      return [
        r.label,
        compact(idle.latency.p50Us),
        compact(idle.latency.p99Us),
        compact(busy.latency.p50Us),
        compact(busy.latency.p99Us),
        toIdle(busy.latency.p99Us),
        compact(stopped?.latency.p50Us),
        compact(stopped?.latency.p99Us),
        toIdle(stopped?.latency.p99Us),
        `${idle.requests}/${busy.requests}/${stopped?.requests ?? "–"}`,
        compact(r.megabytesPerSecond),
        compact(streamMs / 1000),
      ];
    });
  return rows.length > 0 ? columns([MIXED_HEADER, ...rows], MIXED_RIGHT) : "  (no run)";
}

/** How much of the mixed scenario's stopped stream went out before it stalled, and whether it stayed stalled while measured. */
function stoppedStreamLines(r: RunResult): string[] {
  const stopped = r.mixed?.stopped;
  if (stopped === undefined) return [];
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  return [`  ${r.label}: the stream whose reader stopped had sent ${mib(stopped.sentAtStart)} MiB when it stalled, ${mib(stopped.sentAtEnd - stopped.sentAtStart)} MiB more while measured`];
}

function idleRows(_scenario: Scenario, results: RunResult[]): string {
  const rows = results
    .filter((r) => r.idle !== undefined)
    .map((r) => {
      const clients = r.others.filter((o) => o.role.startsWith("idle consumers")).reduce((sum, o) => sum + o.rssMB, 0);
      return [
        r.label,
        `${r.idle!.connected}/${r.idle!.requested}`,
        compact(r.idle!.connectMs / 1000),
        r.server?.role ?? "–",
        compact(r.server?.rssMB),
        compact(r.server?.peakRssMB),
        compact(r.server?.cpuMs),
        `${r.idle!.probesOk}/${r.idle!.probes}`,
        compact(clients),
      ];
    });
  return rows.length > 0 ? columns([IDLE_HEADER, ...rows], IDLE_RIGHT) : "  (no run)";
}

/** A reason on one line, shortened: the JSON keeps it whole. */
function oneLine(reason: string | undefined, max = 240): string {
  const text = (reason ?? "").split("\n").filter(Boolean).join(" ⏎ ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
