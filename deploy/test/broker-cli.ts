import { execFileSync, spawnSync } from "node:child_process";
import { BROKER_BIN } from "@switchyard/testing";

/**
 * The Node flag every broker we start runs under (README "Large bodies and the heap"): a larger
 * initial old generation, so that large bodies' socket buffers do not force a full collection every
 * few requests. Node takes it only on its command line, not in NODE_OPTIONS.
 */
export const BROKER_HEAP_FLAG = "--initial-old-space-size=64";

/** A command line that starts the broker, in its parts. */
export interface BrokerCommand {
  /** Node's flags, when the line runs node on the broker's script; empty when it runs the script itself. */
  nodeFlags: string[];
  /** The broker's program: the switchyard-broker script (by path or name). */
  program: string | undefined;
  /** The broker's own arguments. */
  args: string[];
}

/**
 * Reads `[/usr/bin/env] node [node flags…] program args…` or `program args…` (an ENTRYPOINT, an
 * ExecStart): node's flags are the words starting with `-` between node and the program.
 */
export function brokerCommand(words: readonly string[]): BrokerCommand {
  const rest = words[0] === "/usr/bin/env" ? words.slice(1) : [...words];
  if (rest[0] === undefined || !/(^|\/)node$/.test(rest[0])) return { nodeFlags: [], program: rest[0], args: rest.slice(1) };
  const firstNonFlag = rest.findIndex((word, index) => index > 0 && !word.startsWith("-"));
  const programAt = firstNonFlag === -1 ? rest.length : firstNonFlag;
  return { nodeFlags: rest.slice(1, programAt), program: rest[programAt], args: rest.slice(programAt + 1) };
}

/** What `switchyard-broker --help` says the CLI accepts. */
export interface BrokerCliSpec {
  /**
   * Every flag (`--port`, …): the placeholder of its value (`n` for `--port <n>`, `file` for
   * `--acl <file>`; undefined for a flag that stands alone) and its default.
   */
  flags: Map<string, { value: string | undefined; default: string | undefined }>;
  /** Every SWITCHYARD_* variable it names, and the flag it stands for. */
  variables: Map<string, string>;
}

let spec: BrokerCliSpec | undefined;

/**
 * Runs the real `switchyard-broker --help` and reads its rows (`  --flag <value>  text (default N)
 * [SWITCHYARD_VAR]`): the CLI's own list, so that a flag renamed there fails the checks here.
 */
export function brokerCliSpec(): BrokerCliSpec {
  if (spec !== undefined) return spec;
  const help = execFileSync(process.execPath, [BROKER_BIN, "--help"], { encoding: "utf8" });
  const flags: BrokerCliSpec["flags"] = new Map();
  const variables: BrokerCliSpec["variables"] = new Map();
  for (const line of help.split("\n")) {
    const row = /^\s+(?:-\w, )?(--[a-z][a-z-]*)(?: <([^>]+)>)?\s+(.*)$/.exec(line);
    if (row === null) continue;
    const [, flag, value, text] = row as unknown as [string, string, string | undefined, string];
    flags.set(flag, { value, default: /\(default ([^;)]+)[;)]/.exec(text)?.[1] });
    const variable = /\[(SWITCHYARD_[A-Z_]+)/.exec(text)?.[1];
    if (variable !== undefined) variables.set(variable, flag);
  }
  if (flags.size < 10 || !flags.has("--port")) throw new Error(`could not read switchyard-broker --help:\n${help}`);
  spec = { flags, variables };
  return spec;
}

/** One `--flag value` or `--flag=value` (value undefined for a flag that stands alone). */
export interface CliArg {
  flag: string;
  value: string | undefined;
}

/**
 * Splits a broker command line into flags and values, as node:util parseArgs reads it. Anything
 * that is not a known flag is returned in `problems` (an unknown flag, a stray word, a value-taking
 * flag at the end with no value).
 */
export function readArgs(args: readonly string[]): { args: CliArg[]; problems: string[] } {
  const { flags } = brokerCliSpec();
  const result: CliArg[] = [];
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const [flag, inline] = word.includes("=") ? [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)] : [word, undefined];
    const known = flags.get(flag);
    if (known === undefined) {
      problems.push(`${JSON.stringify(word)} is not a switchyard-broker flag (switchyard-broker --help)`);
      continue;
    }
    if (known.value === undefined) {
      result.push({ flag, value: undefined });
    } else if (inline !== undefined) {
      result.push({ flag, value: inline });
    } else if (i + 1 < args.length) {
      result.push({ flag, value: args[++i]! });
    } else {
      problems.push(`${flag} needs a value`);
    }
  }
  return { args: result, problems };
}

/**
 * A setting's value as the broker will see it: its flag, else its SWITCHYARD_* variable, else the
 * default `--help` prints (flags win over variables, as in the CLI).
 */
export function effectiveSetting(flag: string, args: readonly CliArg[], env: Readonly<Record<string, string>>): string | undefined {
  const fromFlag = args.findLast((arg) => arg.flag === flag);
  if (fromFlag !== undefined) return fromFlag.value;
  const { flags, variables } = brokerCliSpec();
  for (const [variable, variableFlag] of variables) if (variableFlag === flag && env[variable] !== undefined) return env[variable];
  return flags.get(flag)?.default;
}

/**
 * Asks the broker itself whether it accepts this command line and environment: `switchyard-broker
 * ARGS --help` checks every flag and value (names, numbers and their ranges, addresses, flags that
 * need each other) before it prints the help, without binding a port or reading a file. Returns
 * the one-line error it printed, or undefined when it accepted them.
 */
export function brokerRefuses(args: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SWITCHYARD_")));
  const run = spawnSync(process.execPath, [BROKER_BIN, ...args, "--help"], { env: { ...clean, ...env }, encoding: "utf8" });
  if (run.status === 0 && run.stdout.startsWith("Usage: switchyard-broker")) return undefined;
  return run.stderr.trim() || `exit code ${run.status}`;
}
