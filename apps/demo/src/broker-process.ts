import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** A `switchyard-broker` started through its CLI as a child process. */
export interface BrokerProcess {
  /** `host:port` it listens on. */
  address: string;
  /** The port of `address`, to start it again where its clients look for it. */
  port: number;
  /** SIGTERM (the broker drains), then waits for it to exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would end it (nothing drains), then waits for it to exit. */
  kill(): Promise<void>;
}

/** Where a broker process listens: the port (default 0, chosen by the OS; a restart passes the one it had). */
export interface BrokerProcessOptions {
  port?: number;
}

const READY = /^switchyard-broker listening on (\S+:\d+)$/;

/**
 * Starts the broker exactly as a user deploys it: the `switchyard-broker` bin on PATH (pnpm puts
 * the workspace's bins there), on loopback, with an OS-chosen port read back from its startup line.
 */
export async function startBrokerProcess({ port = 0 }: BrokerProcessOptions = {}, readyTimeoutMs = 15_000): Promise<BrokerProcess> {
  const child = spawn("switchyard-broker", ["--host", "127.0.0.1", "--port", String(port), "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const address = await readyAddress(child, readyTimeoutMs);
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(signal);
    await exited;
  };
  return {
    address,
    port: Number(address.slice(address.lastIndexOf(":") + 1)),
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

function readyAddress(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`switchyard-broker did not start: ${why}`));
    };
    const timer = setTimeout(() => fail(`no startup line within ${timeoutMs} ms`), timeoutMs);
    child.once("error", (err) => fail(`${err.message} (is it built? run \`pnpm build\`)`));
    child.once("exit", (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    lines.on("line", (line) => {
      const match = READY.exec(line.trim());
      if (match === null) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.removeAllListeners("error");
      resolve(match[1]!);
    });
  });
}
