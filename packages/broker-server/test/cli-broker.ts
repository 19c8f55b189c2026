import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import { RawClient } from "./raw-client.js";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/switchyard-broker.js");

/** A `switchyard-broker` process and what it printed. */
export interface BrokerRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Broker processes and raw clients for one test file; all are killed / destroyed after each test. */
export interface CliBrokers {
  /** Spawns the built CLI with `args` (and extra environment variables). */
  run(args: string[], env?: Record<string, string>): BrokerRun;
  /** Waits for the "listening on HOST:PORT" line and returns the address. */
  listening(broker: BrokerRun): Promise<{ host: string; port: number }>;
  /** A connected, unregistered raw client. */
  client(port: number): Promise<RawClient>;
}

export function useCliBrokers(): CliBrokers {
  const children: ChildProcess[] = [];
  const clients: RawClient[] = [];

  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  return {
    run(args, env = {}) {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      let out = "";
      let err = "";
      child.stdout!.on("data", (chunk: Buffer) => (out += chunk));
      child.stderr!.on("data", (chunk: Buffer) => (err += chunk));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      return { child, stdout: () => out, stderr: () => err, exited };
    },
    async listening(broker) {
      await expect.poll(() => broker.stdout(), { timeout: 10_000 }).toMatch(/\n/);
      const match = /^switchyard-broker listening on (\d+\.\d+\.\d+\.\d+):(\d+)\n$/.exec(broker.stdout());
      if (match === null) throw new Error(`unexpected startup output: ${JSON.stringify(broker.stdout())}`);
      return { host: match[1]!, port: Number(match[2]) };
    },
    async client(port) {
      const raw = await RawClient.connect(port);
      clients.push(raw);
      return raw;
    },
  };
}
