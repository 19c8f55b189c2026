import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { findExecutable } from "./proc/locate.js";
import { openFileLimits } from "./proc/proc-stats.js";

/** The machine and software a run measured, recorded with its figures. */
export interface Environment {
  host: string;
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  kernel: string;
  node: string;
  openFiles: { soft: number; hard: number };
  versions: Record<string, string | undefined>;
}

/** Describes this machine and the peers' versions (undefined where one is absent). */
export async function describeEnvironment(): Promise<Environment> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGB: Math.round(os.totalmem() / 1e9),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    openFiles: openFileLimits(),
    versions: {
      "nats-server": commandVersion("nats-server", ["--version"]),
      nats: packageVersion("nats"),
      zeromq: packageVersion("zeromq"),
      libzmq: await import("zeromq").then((z) => z.version).catch(() => undefined),
    },
  };
}

function commandVersion(name: string, args: string[]): string | undefined {
  const executable = findExecutable(name);
  if (executable === undefined) return undefined;
  try {
    return execFileSync(executable, args, { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function packageVersion(name: string): string | undefined {
  try {
    const file = new URL(import.meta.resolve(`${name}/package.json`));
    return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
