/**
 * `pnpm bench`: Switchyard against NATS, ZeroMQ and the raw-socket limit, on this machine, in one
 * run. See options.ts for the command line and README "Benchmarks" for what is measured.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describeEnvironment } from "./environment.js";
import { type BenchOptions, HELP, parseOptions } from "./options.js";
import { findBrokerCli, findBrokerScript, findRepoRoot, peerScript } from "./proc/locate.js";
import { writeChart } from "./report/chart.js";
import { type ProfileSummary, summarizeProfile } from "./report/cpu-profile-summary.js";
import { costLines, MONITOR_PAIRS, TLS_PAIRS } from "./report/feature-cost.js";
import { Progress } from "./report/progress.js";
import { scenarioTable } from "./report/table.js";
import { judgeTargets, TLS_TARGETS } from "./report/targets.js";
import { runFailover } from "./run-failover.js";
import { runIdle } from "./run-idle.js";
import { runInterleaved, runLoad } from "./run-load.js";
import { runMixed } from "./run-mixed.js";
import { emptyResult, type RunResult } from "./run-result.js";
import { runStream } from "./run-stream.js";
import { applyOverrides, overTls, SCENARIOS, type Scenario, withMonitored } from "./scenarios.js";
import { SYSTEMS } from "./systems/registry.js";
import type { BenchSystem, SystemContext, SystemName } from "./systems/system.js";
import { makeBenchCertificates } from "./tls/bench-certificates.js";

interface PlannedRun {
  scenario: Scenario;
  system: BenchSystem;
}

async function main(): Promise<number> {
  const repoRoot = findRepoRoot();
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2), repoRoot);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  await mkdir(options.outDir, { recursive: true });
  const cpuProfileDir = options.cpuProf ? path.join(options.outDir, "profiles") : undefined;
  if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });
  const certificates = options.tls ? makeBenchCertificates(repoRoot) : undefined;
  try {
    return await runPlan(options, repoRoot, startedAt, stamp, cpuProfileDir, certificates);
  } finally {
    certificates?.remove();
  }
}

async function runPlan(
  options: BenchOptions,
  repoRoot: string,
  startedAt: Date,
  stamp: string,
  cpuProfileDir: string | undefined,
  tls: SystemContext["tls"],
): Promise<number> {
  const baseContext: SystemContext = {
    peerScript: peerScript(),
    brokerCli: options.brokerCli ?? findBrokerCli(repoRoot),
    brokerScript: options.brokerCli ?? findBrokerScript(repoRoot),
    brokerNodeFlags: options.brokerNodeFlags,
    cpuProfileDir,
    runName: stamp,
    requestTimeoutMs: options.requestTimeoutMs,
    tls,
  };

  const chosen = SCENARIOS.filter((s) => options.scenarios.includes(s.name));
  const featured = options.tls ? overTls(chosen) : chosen;
  const scenarios = (options.monitor ? withMonitored(featured) : featured).map((s) => applyOverrides(s, options.overrides));
  // --tls and --monitor compare their systems (and the plain ones beside them) even when --system leaves them out
  const systems = [
    ...options.systems,
    // fleet2 and failover are Switchyard's: they run with it, beside the one-broker and sharded figures
    ...(options.systems.includes("switchyard") ? (["switchyard-fleet", "switchyard-sharded"] as const) : []),
    ...(options.tls ? (["switchyard-tls", "nats-tls"] as const) : []),
    ...(options.monitor ? (["switchyard-monitored"] as const) : []),
  ];
  const plan: PlannedRun[] = scenarios.flatMap((scenario) =>
    [scenario.ours, ...scenario.peers].filter((name) => systems.includes(name)).map((name) => ({ scenario, system: SYSTEMS[name] })),
  );
  const environment = await describeEnvironment();
  const skipped = await unavailableSystems(plan, baseContext);
  printHeader(options, environment, skipped);

  const results: RunResult[] = [];
  const progress = new Progress(plan.filter((run) => !skipped.has(run.system.name)).length, options.progress);
  const contextOf = (run: PlannedRun) => ({ ...baseContext, runName: `${stamp}-${run.scenario.name}-${run.system.name}` });
  for (const [index, run] of plan.entries()) {
    if (!run.scenario.interleaved) {
      results.push(await runOne(run, contextOf(run), options, skipped.get(run.system.name), progress));
      continue;
    }
    if (plan.findIndex((other) => other.scenario === run.scenario) !== index) continue; // run with the first of its scenario
    results.push(...(await runTogether(plan.filter((other) => other.scenario === run.scenario), contextOf, options, skipped, progress)));
  }
  progress.stop();

  // Targets only where our system ran (or was meant to): with --system nats they would say nothing.
  const oursOf = (name: string) => plan.find((run) => run.scenario.name === name && run.system.name === run.scenario.ours)?.system.name;
  const targets = options.tls ? judgeTargets(results, oursOf, TLS_TARGETS) : judgeTargets(results, oursOf);
  for (const scenario of scenarios.filter((s) => plan.some((run) => run.scenario === s))) {
    const own = results.filter((r) => r.scenario === scenario.name);
    const cost = [...(options.tls ? costLines("TLS", TLS_PAIRS, own) : []), ...(options.monitor ? costLines("Monitoring", MONITOR_PAIRS, own) : [])];
    process.stdout.write(`\n${scenarioTable(scenario, own, targets.filter((t) => t.scenario === scenario.name))}\n${cost.map((line) => `${line}\n`).join("")}`);
  }
  const profiles = await summarizeProfiles(results);

  const base = path.join(options.outDir, stamp);
  const report = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), environment, options, skipped: Object.fromEntries(skipped), results, targets, profiles };
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nResults: ${path.relative(process.cwd(), `${base}.json`) || `${base}.json`}\n`);
  if (options.chart) {
    try {
      await writeChart(`${base}.svg`, results, `Switchyard bench ${startedAt.toISOString().slice(0, 16)}Z — ${environment.cpus} CPUs, Node ${environment.node}`);
      process.stdout.write(`Chart:   ${path.relative(process.cwd(), `${base}.svg`)}\n`);
    } catch (err) {
      process.stderr.write(`chart not written: ${(err as Error).message}\n`);
    }
  }
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length > 0) process.stdout.write(`\n${failed.length} run(s) failed: ${failed.map((r) => `${r.scenario}/${r.system}`).join(", ")}\n`);
  return failed.length > 0 ? 1 : 0;
}

/** Asks each planned system once whether it can run here. */
async function unavailableSystems(plan: PlannedRun[], context: SystemContext): Promise<Map<SystemName, string>> {
  const skipped = new Map<SystemName, string>();
  for (const system of new Set(plan.map((run) => run.system))) {
    const reason = await system.unavailable(context);
    if (reason !== undefined) skipped.set(system.name, reason);
  }
  return skipped;
}

async function runOne(run: PlannedRun, context: SystemContext, options: BenchOptions, skip: string | undefined, progress: Progress): Promise<RunResult> {
  const base = { scenario: run.scenario.name, system: run.system.name, label: run.system.label, shape: run.scenario.shape };
  if (skip !== undefined) return emptyResult({ ...base, status: "skipped", reason: skip });
  progress.begin(`${run.scenario.name} · ${run.system.label}`);
  const timing = { warmupMs: options.warmupMs, durationMs: options.durationMs };
  const execute = { load: runLoad, idle: runIdle, failover: runFailover, stream: runStream, mixed: runMixed }[run.scenario.kind];
  try {
    const result = await execute(run.scenario, run.system, context, timing, (f) => progress.update(f));
    if (result.status === "failed") progress.note(`${run.scenario.name} · ${run.system.label}: ${result.reason}`);
    return result;
  } catch (err) {
    const reason = (err as Error).message;
    progress.note(`${run.scenario.name} · ${run.system.label} failed: ${reason}`);
    return emptyResult({ ...base, status: "failed", reason });
  } finally {
    progress.end();
  }
}

/** An interleaved scenario's runs: the systems that can run here side by side, measured in turns (runInterleaved). */
async function runTogether(runs: PlannedRun[], contextOf: (run: PlannedRun) => SystemContext, options: BenchOptions, skipped: Map<SystemName, string>, progress: Progress): Promise<RunResult[]> {
  const scenario = runs[0]!.scenario;
  const runnable = runs.filter((run) => !skipped.has(run.system.name));
  const timing = { warmupMs: options.warmupMs, durationMs: options.durationMs };
  const measured = new Map<SystemName, RunResult>();
  if (runnable.length > 0) {
    progress.begin(`${scenario.name} · ${runnable.map((run) => run.system.label).join(", ")}, in turns`, runnable.length);
    try {
      const results = await runInterleaved(scenario, runnable.map((run) => ({ system: run.system, context: contextOf(run) })), timing, (f) => progress.update(f));
      for (const result of results) {
        measured.set(result.system, result);
        if (result.status === "failed") progress.note(`${scenario.name} · ${result.label}: ${result.reason}`);
      }
    } finally {
      progress.end();
    }
  }
  return runs.map((run) => {
    const base = { scenario: scenario.name, system: run.system.name, label: run.system.label, shape: scenario.shape };
    return measured.get(run.system.name) ?? emptyResult({ ...base, status: "skipped", reason: skipped.get(run.system.name) ?? "not run" });
  });
}

function printHeader(options: BenchOptions, environment: Awaited<ReturnType<typeof describeEnvironment>>, skipped: Map<SystemName, string>): void {
  const lines = [
    `Switchyard bench — ${environment.cpus} × ${environment.cpuModel}, ${environment.memoryGB} GB, Node ${environment.node}, ${environment.kernel}`,
    `warm-up ${options.warmupMs / 1000} s, measured ${options.durationMs / 1000} s per run${options.quick ? " (--quick: a smoke test, not a measurement)" : ""}`,
    ...[...skipped].map(([name, reason]) => `skipping ${SYSTEMS[name].label}: ${reason}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** With --cpu-prof: the top self-time functions of every process profiled, per run. */
async function summarizeProfiles(results: RunResult[]): Promise<Record<string, ProfileSummary>> {
  const summaries: Record<string, ProfileSummary> = {};
  for (const result of results) {
    for (const [role, file] of Object.entries(result.profiles ?? {})) {
      const summary = await summarizeProfile(file);
      const name = `${result.scenario} · ${result.label} · ${role}`;
      summaries[name] = summary;
      const busy = `busy ${summary.busyMs.toFixed(0)} of ${summary.sampledMs.toFixed(0)} ms sampled`;
      process.stdout.write(`\nProfile, ${name} (${path.relative(process.cwd(), file)}): ${busy}; top self time:\n`);
      for (const entry of summary.top) process.stdout.write(`  ${entry.percent.toFixed(1).padStart(5)}%  ${entry.selfMs.toFixed(0).padStart(6)} ms  ${entry.frame}\n`);
    }
  }
  return summaries;
}

process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
