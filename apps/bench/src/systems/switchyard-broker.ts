import path from "node:path";
import { type Child, startChild } from "../proc/child-process.js";
import type { SystemContext } from "./system.js";

/** The line `switchyard-broker` prints on stdout once it listens. */
export const BROKER_READY = /switchyard-broker listening on (\S+):(\d+)/;

/** Open files to allow a broker beyond its client connections (listener, stdio, logs). */
const SPARE_FILES = 1024;

/** A running broker child and the address clients dial ("host:port"). */
export interface StartedBroker {
  child: Child;
  address: string;
}

/**
 * Starts the broker through its CLI on an ephemeral loopback port, as a deployment would. With
 * --cpu-prof the child gets `--cpu-prof` through NODE_OPTIONS and writes its profile on exit.
 */
export async function startBroker(context: SystemContext, connections: number): Promise<StartedBroker> {
  if (context.brokerCli === undefined) throw new Error("switchyard-broker CLI not found (build @switchyard/broker-server; run through pnpm)");
  const env: Record<string, string> = {};
  if (context.cpuProfileDir !== undefined) {
    const name = `${context.runName}.cpuprofile`;
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir="${context.cpuProfileDir}" --cpu-prof-name="${name}"`.trim();
  }
  const child = await startChild({
    role: "switchyard-broker",
    command: context.brokerCli,
    args: ["--port", "0", "--host", "127.0.0.1"],
    ready: BROKER_READY,
    env,
    maxOpenFiles: connections + SPARE_FILES,
  });
  return { child, address: `${child.ready[1]}:${child.ready[2]}` };
}

/** Where --cpu-prof leaves the profile of the broker of `runName`. */
export function brokerProfilePath(context: SystemContext): string | undefined {
  return context.cpuProfileDir === undefined ? undefined : path.join(context.cpuProfileDir, `${context.runName}.cpuprofile`);
}
