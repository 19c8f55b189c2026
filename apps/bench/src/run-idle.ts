import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Cleanup } from "./proc/cleanup.js";
import { openFileLimits } from "./proc/proc-stats.js";
import { ProcessMeter } from "./proc/process-meter.js";
import type { Timing } from "./run-load.js";
import { emptyResult, type IdleReport, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import { type Peer, startPeer } from "./systems/start-peer.js";
import { CONNECT_TIMEOUT_MS } from "./systems/switchyard.js";
import { startBroker } from "./systems/switchyard-broker.js";
import type { BenchSystem, SystemContext } from "./systems/system.js";

/** Idle consumers per child process: each child's open files stay well under common limits. */
export const IDLE_CONSUMERS_PER_CHILD = 5_000;

/**
 * Connections the idle children open at once, all of them together: every idle consumer comes from
 * 127.0.0.1, and the broker closes at once a socket beyond its maxUnregisteredPerAddress (256)
 * connections from one address that have not registered yet. Real consumers come from many
 * addresses; here the bench keeps its own storm under the share.
 */
const CONNECT_CONCURRENCY = 200;

/** Open files to allow an idle child beyond its consumers. */
const SPARE_FILES = 256;

interface IdleInfo {
  connected: number;
  failed: number;
  firstError?: string;
  connectMs: number;
  probes: number;
  probesOk: number;
}

/**
 * The idle scenario: a broker with one echo provider, and `shape.connections` consumers connected
 * from child processes (so the bench's own file limit does not cap them) and then left alone for
 * the duration. Reports the broker's memory with all of them connected, and its CPU while idle.
 */
export async function runIdle(scenario: Scenario, system: BenchSystem, context: SystemContext, timing: Timing, onProgress: (f: number) => void): Promise<RunResult> {
  const count = scenario.shape.connections;
  const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
  const cleanup = new Cleanup();
  try {
    const broker = cleanup.add(await startBroker(context, count + 1), (b) => {
      b.stopScraping();
      return b.child.stop();
    });
    const channel = randomUUID();
    const providers = cleanup.add(await startPeer(context, "switchyard-providers", { addresses: [broker.address], channels: [channel], concurrency: 64 }), (p) => p.child.stop());
    const limit = openFileLimits().hard;
    onProgress(0.05);
    const parts = splitCount(count, IDLE_CONSUMERS_PER_CHILD);
    const concurrency = Math.max(1, Math.floor(CONNECT_CONCURRENCY / parts.length));
    const idle = await Promise.all(
      parts.map(async (n) =>
        cleanup.add(
          await startPeer<IdleInfo>(
            context,
            "idle-consumers",
            { address: broker.address, channel, count: n, timeout: CONNECT_TIMEOUT_MS, concurrency },
            { maxOpenFiles: n + SPARE_FILES, readyTimeoutMs: Math.max(60_000, n * 20) },
          ),
          (p) => p.child.stop(),
        ),
      ),
    );
    const processes = [
      { role: "switchyard-broker", pid: broker.child.pid },
      { role: "providers", pid: providers.child.pid },
      ...idle.map((p, i) => ({ role: `idle consumers ${i + 1}`, pid: p.child.pid })),
    ];
    const meter = new ProcessMeter(processes);
    meter.start();
    await holdIdle(timing.warmupMs + timing.durationMs, onProgress);
    meter.stop();
    const report = idleReport(count, idle, limit);
    const failure = idleFailure(report);
    return {
      ...emptyResult({ ...base, status: failure ? "failed" : "ok", reason: failure }),
      elapsedMs: timing.warmupMs + timing.durationMs,
      server: meter.report(broker.child.pid, 0),
      others: processes.slice(1).flatMap((p) => meter.report(p.pid, 0) ?? []),
      idle: report,
    };
  } finally {
    await cleanup.run();
  }
}

/** Why an idle run failed (not all connected, probes unanswered), naming a too-low file limit. */
function idleFailure(report: IdleReport): string | undefined {
  if (report.connected === report.requested && report.probesOk === report.probes) return undefined;
  const limit =
    report.openFileLimit < report.requested + SPARE_FILES
      ? `; the open-file hard limit (${report.openFileLimit}) is below what the broker needs: raise it (ulimit -Hn, as root)`
      : "";
  const first = report.firstError ? `; first error: ${report.firstError}` : "";
  return `${report.connected}/${report.requested} connected, ${report.probesOk}/${report.probes} probes answered${first}${limit}`;
}

async function holdIdle(ms: number, onProgress: (f: number) => void): Promise<void> {
  const steps = 10;
  for (let i = 1; i <= steps; i++) {
    await sleep(ms / steps);
    onProgress(0.05 + (0.95 * i) / steps);
  }
}

function idleReport(requested: number, peers: Peer<IdleInfo>[], openFileLimit: number): IdleReport {
  const infos = peers.map((p) => p.info);
  const sum = (pick: (i: IdleInfo) => number) => infos.reduce((total, info) => total + pick(info), 0);
  return {
    requested,
    connected: sum((i) => i.connected),
    failed: sum((i) => i.failed),
    firstError: infos.find((i) => i.firstError !== undefined)?.firstError,
    connectMs: Math.max(0, ...infos.map((i) => i.connectMs)),
    probes: sum((i) => i.probes),
    probesOk: sum((i) => i.probesOk),
    openFileLimit,
  };
}

/** Splits `total` into parts of at most `size`. */
function splitCount(total: number, size: number): number[] {
  return Array.from({ length: Math.ceil(total / size) }, (_, i) => Math.min(size, total - i * size));
}
