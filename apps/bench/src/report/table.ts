import type { RunResult } from "../run-result.js";
import { describeShape, type Scenario } from "../scenarios.js";
import { columns, compact, ratio } from "./format.js";
import type { TargetOutcome } from "./targets.js";

const LOAD_HEADER = ["system", "req/s", "ours/peer", "p50 µs", "p99 µs", "p999 µs", "MB/s", "errors", "measured process", "CPU µs/req", "peak RSS MB", "responders CPU µs/req", "bench CPU µs/req"];
const LOAD_RIGHT = [false, true, true, true, true, true, true, true, false, true, true, true, true];

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
  const body = scenario.kind === "idle" ? idleRows(results) : loadRows(scenario, results);
  const notes = results.filter((r) => r.status !== "ok").map((r) => `  ${r.label}: ${r.status} — ${oneLine(r.reason)}`);
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

function idleRows(results: RunResult[]): string {
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
