import path from "node:path";
import { parseArgs } from "node:util";
import { SCENARIOS, type ShapeOverrides } from "./scenarios.js";
import { SYSTEM_NAMES } from "./systems/registry.js";
import type { SystemName } from "./systems/system.js";

/** Measured seconds per run. */
export const DEFAULT_DURATION_S = 5;
/** Warm-up seconds per run, not counted. */
export const DEFAULT_WARMUP_S = 1;
/** --quick: measured seconds per run (about a second per run with the warm-up). */
export const QUICK_DURATION_S = 0.8;
/** --quick: warm-up seconds per run. */
export const QUICK_WARMUP_S = 0.2;
/** --quick: idle consumers (a smoke test of idle10k, not its measurement). */
export const QUICK_IDLE_CONNECTIONS = 1_000;
/** --quick: bytes each way of the stream scenarios (a smoke test of stream1GiB and mixed). */
export const QUICK_STREAM_BYTES = 16 * 1024 * 1024;
/** Per-request timeout in the clients (ms): a hung system fails its run instead of the bench. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Everything the command line decides. */
export interface BenchOptions {
  scenarios: string[];
  systems: SystemName[];
  warmupMs: number;
  durationMs: number;
  overrides: ShapeOverrides;
  quick: boolean;
  cpuProf: boolean;
  /** Directory for the JSON, the SVG chart and profiles. */
  outDir: string;
  chart: boolean;
  /** undefined: a progress bar when stderr is a TTY. */
  progress: boolean | undefined;
  brokerCli: string | undefined;
  /** --broker-node-flags: Node flags the broker runs under (`node FLAGS script`), e.g. heap sizing or --trace-gc. */
  brokerNodeFlags: string[];
  requestTimeoutMs: number;
  /** Also run each Switchyard broker scenario with the monitoring listener on and scraped, beside the run without. */
  monitor: boolean;
  /** --tls: the broker scenarios over TLS (Switchyard and NATS), beside plaintext. */
  tls: boolean;
}

/** A bad command line; main prints the message and the usage hint, and exits 2. */
export class UsageError extends Error {
  readonly code = "USAGE";
  override readonly name = "UsageError";
}

/** The --help text. */
export const HELP = `Usage: pnpm bench [options]     (or: node apps/bench/dist/main.js [options])

Runs Switchyard's scenarios against NATS, ZeroMQ and a raw Node relay/echo on this machine and
prints one table per scenario (ours, each peer, ours/peer), the targets of issue 5 (✓/✗), and
writes bench-results/<timestamp>.json and .svg at the repo root.

Options:
  -s, --scenario LIST     scenarios to run, comma-separated (default: all)
                          ${SCENARIOS.map((s) => s.name).join(", ")}
      --system LIST       systems to run, comma-separated (default: all)
                          ${SYSTEM_NAMES.join(", ")}
  -d, --duration SECONDS  measured time per run (default ${DEFAULT_DURATION_S}); fleet2 measures its systems in
                          turns of about a second until each has had this much
  -w, --warmup SECONDS    warm-up per run, not measured (default ${DEFAULT_WARMUP_S}); in fleet2 before each system's
                          first turn, and at most 0.25 s before its others
  -p, --payload BYTES     body size for every selected load scenario (default: 64; 1 MiB in large1MiB), and the
                          stream's bytes each way in stream1GiB and mixed (default 1 GiB)
  -c, --connections N     client connections for every selected load scenario (default: the scenario's)
  -i, --inflight N        requests in flight per connection for every selected load scenario
      --idle N            consumers idle10k connects (default 10000)
  -q, --quick             smoke test: every run ~1 s, idle10k with ${QUICK_IDLE_CONNECTIONS} consumers, streams of 16 MiB
      --cpu-prof          profile the broker and the peer children (node --cpu-prof) and the clients in this
                          process over the measured window; profiles in <out>/profiles, top costs printed
  -o, --out DIR           where results go (default: <repo>/bench-results)
      --no-chart          skip the SVG chart
      --progress          force the progress bar on (--no-progress: off); default: on when stderr is a TTY
      --broker-bin PATH   the switchyard-broker CLI (default: from PATH, else <repo>/node_modules/.bin);
                          with --cpu-prof it must be a Node script (it is run as node --cpu-prof PATH)
      --broker-node-flags=FLAGS
                          run the broker as node FLAGS <its script> (space-separated, after "=" as they start
                          with a dash; flags Node refuses in NODE_OPTIONS too), e.g.
                          --broker-node-flags="--initial-old-space-size=64 --trace-gc"
      --timeout MS        per-request timeout in the clients (default ${DEFAULT_REQUEST_TIMEOUT_MS})
      --monitor           each Switchyard broker scenario also runs as "Switchyard monitored": the broker with
                          --monitor 127.0.0.1:0 and its /metrics scraped every second (as Prometheus would),
                          right after the run without, and the table says what monitoring cost
      --tls               the broker scenarios over TLS: Switchyard TLS against NATS TLS (a tls {} block), with
                          both in plaintext in the same run for the cost of TLS; certificates are made for the run
  -h, --help              this text

Peers: NATS needs nats-server on PATH (apt-get install nats-server); it is skipped otherwise.
The exit code is 1 if any run failed (errors, hangs, nothing completed), never for speed.`;

/** Parses argv; `undefined` means --help was asked (and printed by the caller). */
export function parseOptions(argv: string[], repoRoot: string): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      scenario: { type: "string", short: "s" },
      system: { type: "string" },
      duration: { type: "string", short: "d" },
      warmup: { type: "string", short: "w" },
      payload: { type: "string", short: "p" },
      connections: { type: "string", short: "c" },
      inflight: { type: "string", short: "i" },
      idle: { type: "string" },
      quick: { type: "boolean", short: "q", default: false },
      "cpu-prof": { type: "boolean", default: false },
      out: { type: "string", short: "o" },
      chart: { type: "boolean", default: true },
      progress: { type: "boolean" },
      "broker-bin": { type: "string" },
      "broker-node-flags": { type: "string" },
      timeout: { type: "string" },
      monitor: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick === true;
  return {
    scenarios: list(values.scenario, SCENARIOS.map((s) => s.name), "scenario"),
    systems: list(values.system, SYSTEM_NAMES, "system") as SystemName[],
    durationMs: 1000 * number(values.duration, quick ? QUICK_DURATION_S : DEFAULT_DURATION_S, "duration", 0.01),
    warmupMs: 1000 * number(values.warmup, quick ? QUICK_WARMUP_S : DEFAULT_WARMUP_S, "warmup", 0),
    overrides: {
      payloadBytes: optionalInteger(values.payload, "payload", 0),
      connections: optionalInteger(values.connections, "connections", 1),
      inflight: optionalInteger(values.inflight, "inflight", 1),
      idleConnections: optionalInteger(values.idle, "idle", 1) ?? (quick ? QUICK_IDLE_CONNECTIONS : undefined),
      streamBytes: quick ? QUICK_STREAM_BYTES : undefined,
    },
    quick,
    cpuProf: values["cpu-prof"] === true,
    outDir: path.resolve(values.out ?? path.join(repoRoot, "bench-results")),
    chart: values.chart !== false,
    progress: values.progress,
    brokerCli: values["broker-bin"],
    brokerNodeFlags: nodeFlags(values["broker-node-flags"]),
    requestTimeoutMs: number(values.timeout, DEFAULT_REQUEST_TIMEOUT_MS, "timeout", 1),
    monitor: values.monitor === true,
    tls: values.tls === true,
  };
}

function list(value: string | undefined, known: string[], option: string): string[] {
  if (value === undefined) return known;
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`--${option}: unknown ${unknown.join(", ")} (known: ${known.join(", ")})`);
  return known.filter((n) => names.includes(n));
}

/** --broker-node-flags: space-separated, each a flag (starts with -), so a script path cannot slip in. */
function nodeFlags(value: string | undefined): string[] {
  const flags = (value ?? "").split(/\s+/).filter(Boolean);
  const bad = flags.filter((flag) => !flag.startsWith("-"));
  if (bad.length > 0) throw new UsageError(`--broker-node-flags takes Node flags (each starting with -), not ${bad.join(" ")}`);
  return flags;
}

function number(value: string | undefined, fallback: number, option: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${option} must be a number ≥ ${min}, got "${value}"`);
  return n;
}

function optionalInteger(value: string | undefined, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = number(value, 0, option, min);
  if (!Number.isInteger(n)) throw new UsageError(`--${option} must be a whole number, got "${value}"`);
  return n;
}
