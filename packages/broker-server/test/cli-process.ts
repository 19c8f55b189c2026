import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/switchyard-broker.js");

/** A `switchyard-broker` child process and what it printed. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns the built CLI; every child of a test file is killed after each test. */
export function useCli(): (args: string[], env?: Record<string, string>) => CliRun {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return (args, env = {}) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, stdout: () => out, stderr: () => err, exited };
  };
}

/** Waits for `lines` start-up lines on stdout and returns them. */
export async function startupLines(broker: CliRun, lines: number): Promise<string[]> {
  await expect.poll(() => broker.stdout().split("\n").length - 1, { timeout: 10_000 }).toBeGreaterThanOrEqual(lines);
  return broker.stdout().split("\n").slice(0, lines);
}

/** The port of `switchyard-broker listening on HOST:PORT`. */
export function brokerPort(line: string): number {
  const match = /^switchyard-broker listening on (\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(line);
  if (match === null) throw new Error(`unexpected start-up line: ${JSON.stringify(line)}`);
  return Number(match[2]);
}
