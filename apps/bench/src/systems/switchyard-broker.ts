import { get } from "node:http";
import path from "node:path";
import { type Child, startChild } from "../proc/child-process.js";
import type { SystemContext } from "./system.js";

/** The line `switchyard-broker` prints on stdout once it listens. */
export const BROKER_READY = /switchyard-broker listening on (\S+):(\d+)/;
/** The second start-up line, with --monitor. */
const MONITOR_READY = /switchyard-broker monitoring on (http:\/\/\S+)/;
/** How often --monitor scrapes /metrics, ms: a busy Prometheus's interval. */
const SCRAPE_INTERVAL_MS = 1000;

/** Open files to allow a broker beyond its client connections (listener, stdio, logs). */
const SPARE_FILES = 1024;

/** A running broker child and the address clients dial ("host:port"). */
export interface StartedBroker {
  child: Child;
  address: string;
  /** Stops the /metrics scrapes of a monitored broker (a no-op for others). */
  stopScraping: () => void;
}

/**
 * Starts the broker through its CLI on an ephemeral loopback port, as a deployment would. With
 * --cpu-prof it writes its profile when it exits (the CLI drains and exits on SIGTERM). `monitored`:
 * with `--monitor 127.0.0.1:0`, its /metrics scraped every second until stopScraping().
 */
export async function startBroker(context: SystemContext, connections: number, extraArgs: string[] = [], monitored = false): Promise<StartedBroker> {
  const child = await startChild({
    role: "switchyard-broker",
    ...brokerCommand(context, ["--port", "0", "--host", "127.0.0.1", ...(monitored ? ["--monitor", "127.0.0.1:0"] : []), ...extraArgs]),
    ready: BROKER_READY,
    maxOpenFiles: connections + SPARE_FILES,
  });
  const address = `${child.ready[1]}:${child.ready[2]}`;
  if (!monitored) return { child, address, stopScraping: () => {} };
  return { child, address, stopScraping: await scrapeMetrics(child) };
}

/**
 * Scrapes the broker's /metrics every second, as Prometheus would, until the returned function is
 * called. Through node:http rather than fetch, so that the bench process (whose clients are
 * measured too) runs no more than one small GET a second.
 */
async function scrapeMetrics(child: Child): Promise<() => void> {
  const deadline = Date.now() + 10_000;
  let match = MONITOR_READY.exec(child.output);
  while (match === null) {
    if (Date.now() > deadline) throw new Error(`switchyard-broker --monitor printed no monitoring line:\n${child.output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    match = MONITOR_READY.exec(child.output);
  }
  const url = `${match[1]}/metrics`;
  const timer = setInterval(() => {
    get(url, (response) => response.resume()).on("error", () => {}); // errors: the broker is stopping
  }, SCRAPE_INTERVAL_MS);
  return () => clearInterval(timer);
}

/**
 * The CLI as is, or — with --cpu-prof or --broker-node-flags, whose flags Node refuses in
 * NODE_OPTIONS — its script under `node FLAGS`, which is what the CLI's shim runs anyway.
 */
function brokerCommand(context: SystemContext, args: string[]): { command: string; args: string[] } {
  if (context.cpuProfileDir === undefined && context.brokerNodeFlags.length === 0) {
    if (context.brokerCli === undefined) throw new Error("switchyard-broker CLI not found (build @switchyard/broker-server; run through pnpm)");
    return { command: context.brokerCli, args };
  }
  if (context.brokerScript === undefined) throw new Error("--cpu-prof, --broker-node-flags: @switchyard/broker-server's bin script cannot be resolved from the repo root");
  const profileFlags =
    context.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${context.cpuProfileDir}`, `--cpu-prof-name=${context.runName}.cpuprofile`];
  return { command: process.execPath, args: [...context.brokerNodeFlags, ...profileFlags, context.brokerScript, ...args] };
}

/** Where --cpu-prof leaves the profile of the broker of `runName`. */
export function brokerProfilePath(context: SystemContext): string | undefined {
  return context.cpuProfileDir === undefined ? undefined : path.join(context.cpuProfileDir, `${context.runName}.cpuprofile`);
}

/** The context of broker `index` (from 0) of a fleet: its own run name, so each writes its own profile. */
export function fleetBrokerContext(context: SystemContext, index: number): SystemContext {
  return { ...context, runName: `${context.runName}-broker-${index + 1}` };
}
