import { randomUUID } from "node:crypto";
import { Cleanup } from "./proc/cleanup.js";
import { sampleProcess } from "./proc/proc-stats.js";
import type { StreamOutcome, StreamTarget } from "./peers/stream-consumer.js";
import type { Timing } from "./run-load.js";
import { emptyResult, type ProcessReport, type RunResult } from "./run-result.js";
import type { Scenario } from "./scenarios.js";
import { existsSync } from "node:fs";
import { peerProfilePath, startPeer } from "./systems/start-peer.js";
import { brokerProfilePath, startBroker } from "./systems/switchyard-broker.js";
import type { BenchSystem, SystemContext } from "./systems/system.js";

const MB = 1e6;
/** Slowest rate a stream run is given time for before it is called hung: 5 MB/s, plus a minute. */
const SLOWEST_BYTES_PER_MS = 5_000;

/** A started broker and the stream scenarios' provider behind it, their pids, and the channel. */
export interface StreamSystem {
  address: string;
  channel: string;
  brokerPid: number;
  providerPid: number;
}

/** Starts the broker through its CLI and the stream provider (peers/stream-provider.ts), registered with `cleanup`. */
export async function startStreamSystem(context: SystemContext, cleanup: Cleanup): Promise<StreamSystem> {
  const broker = cleanup.add(await startBroker(context, 8), (b) => b.child.stop());
  const channel = randomUUID();
  const provider = cleanup.add(await startPeer(context, "stream-provider", { address: broker.address, channel }), (p) => p.child.stop());
  return { address: broker.address, channel, brokerPid: broker.child.pid, providerPid: provider.child.pid };
}

/**
 * With --cpu-prof: the profile of each process of a stream run, by role (the broker writes its own
 * when it exits, the peers theirs), those that exist once the run is torn down.
 */
export function streamProfiles(context: SystemContext, peers: Array<{ role: string; pid: number }>, brokerRole: string | null): Record<string, string> {
  const files: Record<string, string | undefined> = Object.fromEntries(peers.map((peer) => [peer.role, peerProfilePath(context, peer.pid)]));
  if (brokerRole !== null) files[brokerRole] = brokerProfilePath(context);
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== undefined && existsSync(entry[1])));
}

/** Ms a stream of `bytes` each way gets before its run is called hung. */
export function streamTimeoutMs(bytes: number): number {
  return 60_000 + Math.ceil(bytes / SLOWEST_BYTES_PER_MS);
}

/** CPU over its life and peak memory of a live process, for a report (undefined once it is gone). */
export function lifeReport(role: string, pid: number): ProcessReport | undefined {
  const sample = sampleProcess(pid);
  if (sample === undefined) return undefined;
  return { role, pid, cpuMs: sample.cpuMs, cpuUsPerRequest: undefined, rssMB: sample.rssBytes / MB, peakRssMB: sample.peakRssBytes / MB };
}

/**
 * stream1GiB: one request that carries `shape.payloadBytes` up and the same back down, in a
 * consumer process of its own (peers/stream-consumer.ts). With Switchyard: consumer → broker (CLI)
 * → stream provider, which echoes ctx.body as it arrives. With the raw relay: the same bytes as
 * 1 MiB messages through the relay to its echo server. Reports MB/s (one way, bytes / elapsed) and
 * the peak RSS of every process, each read from its own /proc (VmHWM) or resourceUsage() at the end.
 */
export async function runStream(scenario: Scenario, system: BenchSystem, context: SystemContext, _timing: Timing, onProgress: (f: number) => void): Promise<RunResult> {
  const bytes = scenario.shape.payloadBytes;
  const base = { scenario: scenario.name, system: system.name, label: system.label, shape: scenario.shape };
  const cleanup = new Cleanup();
  let result: RunResult;
  let peers: Array<{ role: string; pid: number }> = [];
  let brokerRole: string | null = null;
  try {
    let target: StreamTarget;
    let middle: { role: string; pid: number };
    let behind: { role: string; pid: number };
    if (system.name === "raw-relay") {
      const echo = cleanup.add(await startPeer<{ port: number }>(context, "raw-echo", {}), (p) => p.child.stop());
      const relay = cleanup.add(await startPeer<{ port: number }>(context, "raw-relay", { upstreamPort: echo.info.port }), (p) => p.child.stop());
      target = { system: "raw-relay", port: relay.info.port };
      middle = { role: "relay", pid: relay.child.pid };
      behind = { role: "echo server", pid: echo.child.pid };
    } else {
      const started = await startStreamSystem(context, cleanup);
      target = { system: "switchyard", address: started.address, channel: started.channel };
      middle = { role: "switchyard-broker", pid: started.brokerPid };
      behind = { role: "provider", pid: started.providerPid };
    }
    onProgress(0.1);
    const timeoutMs = streamTimeoutMs(bytes);
    const consumer = cleanup.add(
      await startPeer<StreamOutcome>(context, "stream-consumer", { target, bytes, timeoutMs }, { readyTimeoutMs: timeoutMs + 30_000 }),
      (p) => p.child.stop(),
    );
    onProgress(1);
    const outcome = consumer.info;
    const consumerReport = lifeReport("consumer", consumer.child.pid);
    const megabytesPerSecond = outcome.elapsedMs > 0 ? bytes / MB / (outcome.elapsedMs / 1000) : 0;
    result = {
      ...emptyResult({ ...base, status: outcome.error === undefined ? "ok" : "failed", reason: outcome.error }),
      requests: outcome.error === undefined ? 1 : 0,
      errors: outcome.error === undefined ? 0 : 1,
      firstError: outcome.error,
      elapsedMs: outcome.elapsedMs,
      requestsPerSecond: outcome.elapsedMs > 0 ? 1000 / outcome.elapsedMs : 0,
      megabytesPerSecond,
      server: lifeReport(middle.role, middle.pid),
      others: [lifeReport(behind.role, behind.pid), consumerReport].flatMap((report) => report ?? []),
      stream: { bytes, consumerPeakRssMB: outcome.peakRssBytes / MB },
    };
    peers = [...(system.name === "raw-relay" ? [middle] : []), behind, { role: "consumer", pid: consumer.child.pid }];
    brokerRole = system.name === "raw-relay" ? null : middle.role;
  } finally {
    await cleanup.run(); // the children write their profiles as they exit
  }
  return { ...result, profiles: streamProfiles(context, peers, brokerRole) };
}
