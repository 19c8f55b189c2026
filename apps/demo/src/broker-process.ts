import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** A `switchyard-broker` started through its CLI as a child process. */
export interface BrokerProcess {
  /** `host:port` it listens on. */
  address: string;
  /** SIGTERM (the broker drains), then waits for it to exit. */
  stop(): Promise<void>;
}

const READY = /^switchyard-broker listening on (\S+:\d+)$/;

/**
 * Starts the broker exactly as a user deploys it: the `switchyard-broker` bin on PATH (pnpm puts
 * the workspace's bins there), on loopback, with an OS-chosen port read back from its startup line.
 */
export async function startBrokerProcess(args: string[] = [], readyTimeoutMs = 15_000): Promise<BrokerProcess> {
  const child = spawn("switchyard-broker", ["--host", "127.0.0.1", "--port", "0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const address = await readyAddress(child, readyTimeoutMs);
  return {
    address,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
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
