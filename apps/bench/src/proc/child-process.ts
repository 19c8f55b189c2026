import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How long a child may take to print its ready line: generous, the machine is shared and noisy. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;

/** How long a child gets to exit after SIGTERM before SIGKILL (a profiled broker writes its profile then). */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** Lines of a child's output kept to explain a failure. */
const TAIL_LINES = 40;

/** What to start and how to know it is ready. */
export interface ChildOptions {
  /** Name used in messages and reports, e.g. "switchyard-broker". */
  role: string;
  command: string;
  args: string[];
  /** Extra environment, merged over the bench's own. */
  env?: Record<string, string>;
  /** Matched against each line of stdout and stderr; the child is ready on the first match. */
  ready: RegExp;
  /** Default {@link DEFAULT_READY_TIMEOUT_MS}. */
  readyTimeoutMs?: number;
  /** Raises the child's open-file limit (`ulimit -n`) to this many, as far as the hard limit allows. */
  maxOpenFiles?: number;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A started child process. Its output is drained continuously, so it can never block on a full pipe. */
export class Child {
  readonly role: string;
  readonly pid: number;
  /** The ready line's match. */
  readonly ready: RegExpMatchArray;
  readonly #process: ChildProcess;
  readonly #tail: string[];
  readonly #exited: Promise<void>;

  constructor(role: string, child: ChildProcess, ready: RegExpMatchArray, tail: string[], exited: Promise<void>) {
    this.role = role;
    this.pid = child.pid!;
    this.ready = ready;
    this.#process = child;
    this.#tail = tail;
    this.#exited = exited;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** The last lines it printed, for error messages. */
  get output(): string {
    return this.#tail.join("\n");
  }

  /** SIGKILL now, as a crash would end it (nothing drains); resolves once it has exited. Idempotent. */
  async kill(): Promise<void> {
    if (this.running) this.#process.kill("SIGKILL");
    await this.#exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    if (!this.running) return this.#exited;
    this.#process.kill("SIGTERM");
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), graceMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts a process and resolves once it prints a line matching `options.ready`. */
export async function startChild(options: ChildOptions): Promise<Child> {
  const [command, args] = withOpenFileLimit(options);
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  live.add(child);
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => {
      live.delete(child);
      resolve();
    });
  });
  child.stdin!.on("error", () => {});
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const match = options.ready.exec(line);
      if (match) resolve(match);
    };
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on("line", onLine);
    child.once("error", reject);
    void exited.then(() => reject(new Error(`${options.role} exited before it was ready:\n${tail.join("\n")}`)));
  });
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${options.role} was not ready within ${timeoutMs} ms:\n${tail.join("\n")}`)), timeoutMs);
  });
  try {
    const match = await Promise.race([ready, timeout]);
    return new Child(options.role, child, match, tail, exited);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Wraps the command in `sh -c 'ulimit -n N; exec …'` when asked; `exec` keeps the pid the command's own. */
function withOpenFileLimit(options: ChildOptions): [string, string[]] {
  if (options.maxOpenFiles === undefined) return [options.command, options.args];
  const script = `ulimit -n ${options.maxOpenFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  return ["/bin/sh", ["-c", script, options.command, ...options.args]];
}
