import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

/**
 * The `switchyard-broker` bin of packages/broker-server (it runs the built dist: build that package
 * first). A path, not an import: broker-server's own tests use this package, so it cannot depend on it.
 */
export const BROKER_BIN = fileURLToPath(new URL("../../broker-server/bin/switchyard-broker.js", import.meta.url));

/** Ms a broker process gets to print its start line: generous, the machine may be busy. */
export const START_TIMEOUT_MS = 20_000;

/** The broker's first line on stdout once it listens: "switchyard-broker listening on HOST:PORT[ note]". */
const START_LINE = /^switchyard-broker listening on (\S+):(\d+)(.*)$/;

/** Where a started broker process listens, from its start line. */
export interface Listening {
  host: string;
  port: number;
  /** "host:port". */
  address: string;
  /** What the start line says after the address (e.g. " (tls, certificate … expires …)"), else "". */
  note: string;
}

/** A `switchyard-broker` process and what it printed. */
export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Everything it printed on stderr so far (pino JSON lines, or a one-line error). */
  stderr(): string;
  /** Resolves with its exit code (null when a signal ended it) once it has exited. */
  readonly exited: Promise<number | null>;
  /** Resolves once it printed its start line; rejects if it printed something else first, exited, or printed nothing in `timeoutMs`. */
  listening(timeoutMs?: number): Promise<Listening>;
  /** SIGTERM (it drains, then exits) and its exit code; SIGKILL and a rejection if it has not exited within `timeoutMs` (default 10 000). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL; resolves once it is reaped. Idempotent. */
  kill(): Promise<void>;
}

/** Spawns `node ...nodeFlags <bin> ...args` with `env` added to this process's environment; it is not waited for. */
export function spawnBroker(args: string[], env: Record<string, string> = {}, bin = BROKER_BIN, nodeFlags: readonly string[] = []): BrokerProcess {
  const child = spawn(process.execPath, [...nodeFlags, bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watch of watchers) watch();
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk;
    notify();
  });
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk));
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      hasExited = true;
      notify();
      resolve(code);
    }),
  );
  const isRunning = () => !hasExited && child.exitCode === null && child.signalCode === null;

  const broker: BrokerProcess = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    listening(timeoutMs = START_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const finish = (error: Error | null, result?: Listening) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error === null) resolve(result!);
          else reject(error);
        };
        const timer = setTimeout(() => finish(new Error(`switchyard-broker printed no start line within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        const check = () => {
          const newline = out.indexOf("\n");
          if (newline >= 0) {
            const match = START_LINE.exec(out.slice(0, newline));
            if (match === null) finish(new Error(`unexpected switchyard-broker output: ${JSON.stringify(out)}; stderr: ${err}`));
            else finish(null, { host: match[1]!, port: Number(match[2]), address: `${match[1]}:${match[2]}`, note: match[3]! });
          } else if (hasExited) {
            finish(new Error(`switchyard-broker exited (code ${child.exitCode}) before listening: ${err}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
    async stop(timeoutMs = 10_000) {
      if (isRunning()) child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      const code = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (code === "late") {
        await broker.kill();
        throw new Error(`switchyard-broker did not exit within ${timeoutMs} ms of SIGTERM; killed`);
      }
      return code;
    },
    async kill() {
      if (isRunning()) child.kill("SIGKILL");
      await exited;
    },
  };
  return broker;
}

/** Broker processes for one test file; every one still running is SIGKILLed and reaped after each test. */
export interface BrokerProcesses {
  /** Spawns the CLI with exactly `args` (and extra environment variables), without waiting. */
  run(args: string[], env?: Record<string, string>): BrokerProcess;
  /** Spawns `switchyard-broker --host 127.0.0.1 --port 0 …args` and resolves once it listens. */
  start(args?: string[], env?: Record<string, string>): Promise<BrokerProcess & Listening>;
}

/** Sets up the after-each hook of a test file that starts brokers through their CLI (`node ...nodeFlags bin`). */
export function useBrokerProcesses(bin = BROKER_BIN, nodeFlags: readonly string[] = []): BrokerProcesses {
  const running: BrokerProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((broker) => broker.kill()));
  });
  const processes: BrokerProcesses = {
    run(args, env = {}) {
      const broker = spawnBroker(args, env, bin, nodeFlags);
      running.push(broker);
      return broker;
    },
    async start(args = [], env = {}) {
      const broker = processes.run(["--host", "127.0.0.1", "--port", "0", ...args], env);
      return Object.assign(broker, await broker.listening());
    },
  };
  return processes;
}
