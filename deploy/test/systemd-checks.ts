import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BROKER_BIN } from "@switchyard/testing";
import { BROKER_HEAP_FLAG, brokerCliSpec, brokerCommand, effectiveSetting, readArgs } from "./broker-cli.js";

/** The instance the checks start the template as: its name is the broker's port. */
export const INSTANCE = "9090";

/** A unit file's settings: section → key → values in order (a key may repeat). */
export type UnitSettings = Map<string, Map<string, string[]>>;

/**
 * Reads `[Section]` and `Key=Value` lines, the way systemd does for what this unit uses: `#` and
 * `;` comments, repeated keys kept in order. A continuation line (trailing `\`) is refused, not
 * misread; systemd-analyze verify checks the file as systemd itself reads it.
 */
export function readUnit(text: string): UnitSettings {
  const sections: UnitSettings = new Map();
  let current: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) throw new Error(`line ${index + 1}: continuation lines are not read by these checks`);
    const section = /^\[(.+)\]$/.exec(line);
    if (section !== null) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const equals = line.indexOf("=");
    if (current === undefined || equals < 1) throw new Error(`line ${index + 1}: not a Key=Value line in a section: ${line}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** `KEY=VALUE` lines of an environment file (the examples this unit reads), comments skipped. */
export function readEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n").map((each) => each.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    env[line.slice(0, equals)] = line.slice(equals + 1).replace(/^"(.*)"$/, "$1");
  }
  return env;
}

/** A systemd time span in seconds: `30`, `30s`, `2min`, `1min 30s`. */
function seconds(span: string | undefined): number {
  if (span === undefined) return Number.NaN;
  let total = 0;
  for (const part of span.split(/\s+/)) {
    const match = /^(\d+)(ms|s|sec|min|m)?$/.exec(part);
    if (match === null) return Number.NaN;
    const unit = match[2] ?? "s";
    total += Number(match[1]) * (unit === "ms" ? 0.001 : unit === "min" || unit === "m" ? 60 : 1);
  }
  return total;
}

/** The ExecStart of the unit as the instance runs it: `%i` replaced, words split. */
export function execStart(unit: UnitSettings, instance = INSTANCE): string[] {
  const line = unit.get("Service")?.get("ExecStart")?.at(-1) ?? "";
  return line.replaceAll("%i", instance).split(/\s+/).filter(Boolean);
}

/**
 * What the broker's template unit must get right beyond its syntax: it runs switchyard-broker with
 * flags the broker accepts and the instance name as its port, stops it with SIGTERM and waits
 * longer than the drain, restarts it when it fails, gives it more file descriptors than
 * connections, runs it as a dynamic user without privileges on a read-only system, and leaves
 * V8 the writable executable memory its JIT needs. `env` is what the environment files set.
 */
export function unitProblems(unit: UnitSettings, env: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const service = unit.get("Service");
  if (service === undefined) return ["no [Service] section"];
  const one = (key: string) => service.get(key)?.at(-1);
  const { nodeFlags, program, args: words } = brokerCommand(execStart(unit));
  if (program === undefined || path.posix.basename(program) !== "switchyard-broker" || !program.startsWith("/")) {
    problems.push(`ExecStart runs ${program}, not switchyard-broker by its absolute path`);
  }
  if (!nodeFlags.includes(BROKER_HEAP_FLAG)) problems.push(`ExecStart does not run node ${BROKER_HEAP_FLAG} on the broker: large bodies would cost it a full collection every few requests`);
  const raw = (one("ExecStart") ?? "").split(/\s+/);
  if (raw[raw.indexOf("--port") + 1] !== "%i" || !raw.includes("--port")) problems.push("ExecStart does not give --port %i: the instance name is the broker's port");
  const { args, problems: argProblems } = readArgs(words);
  problems.push(...argProblems);
  const { variables } = brokerCliSpec();
  for (const name of Object.keys(env)) if (!variables.has(name)) problems.push(`${name} is not a variable the broker reads (switchyard-broker --help)`);

  if ((one("KillSignal") ?? "SIGTERM") !== "SIGTERM") problems.push(`KillSignal=${one("KillSignal")}: the broker drains on SIGTERM`);
  if (one("Restart") !== "on-failure" && one("Restart") !== "always") problems.push(`Restart=${one("Restart")}: a broker that fails must come back`);
  const drainMs = Number(effectiveSetting("--drain-timeout-ms", args, env));
  const closeMs = Number(effectiveSetting("--write-timeout-ms", args, env));
  const stopMs = seconds(one("TimeoutStopSec")) * 1000;
  if (!(stopMs > drainMs + closeMs)) {
    problems.push(`TimeoutStopSec=${one("TimeoutStopSec")} must exceed --drain-timeout-ms ${drainMs} + --write-timeout-ms ${closeMs}: SIGKILL would cut the drain short`);
  }
  const maxConnections = Number(effectiveSetting("--max-connections", args, env));
  const files = Number(one("LimitNOFILE"));
  if (!(files > maxConnections)) problems.push(`LimitNOFILE=${one("LimitNOFILE")} is not above --max-connections ${maxConnections}`);
  for (const [key, value] of [["DynamicUser", "yes"], ["NoNewPrivileges", "yes"], ["ProtectSystem", "strict"]] as const) {
    if (one(key) !== value) problems.push(`${key}=${one(key)}, not ${value}`);
  }
  if (["yes", "true", "1", "on"].includes(one("MemoryDenyWriteExecute") ?? "")) problems.push("MemoryDenyWriteExecute=yes stops V8's JIT: Node cannot run under it");
  return problems;
}

/** Installs Debian's systemd when systemd-analyze is missing (a fresh machine without it). */
export function ensureSystemdAnalyze(): void {
  execFileSync("bash", [path.join(import.meta.dirname, "..", "..", "scripts", "ensure-debian-package.sh"), "systemd-analyze", "systemd"], { stdio: "inherit" });
}

/**
 * Runs `systemd-analyze verify` and `systemd-analyze security --offline` on the unit as installed
 * in a scratch root: the unit under /etc/systemd/system, systemd's own units, and the programs
 * ExecStart names (verify checks that its executable exists). verify exits 0 even for an unknown
 * key or a bad value, only printing a line, so any output counts as a problem. Returns the
 * problems and the exposure level security gave (0 safe … 10 exposed).
 */
export function analyzeUnit(unitText: string, threshold: number): { problems: string[]; exposure: number } {
  const root = mkdtempSync(path.join(os.tmpdir(), "switchyard-unit-"));
  try {
    mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
    mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(root, "etc/systemd/system/switchyard-broker@.service"), unitText);
    // The broker's bin where ExecStart names it, and the program ExecStart runs (/usr/bin/env
    // starting node) as this machine has it.
    const words = execStart(readUnit(unitText));
    const installs = new Map([[brokerCommand(words).program ?? "", BROKER_BIN]]);
    if (words[0] !== undefined && !installs.has(words[0])) installs.set(words[0], words[0]);
    for (const [at, from] of installs) {
      const installed = path.join(root, at);
      mkdirSync(path.dirname(installed), { recursive: true });
      copyFileSync(from, installed);
      chmodSync(installed, 0o755);
    }
    const name = `switchyard-broker@${INSTANCE}.service`;
    const problems: string[] = [];
    const verify = spawnSync("systemd-analyze", ["verify", `--root=${root}`, name], { encoding: "utf8" });
    const said = `${verify.stdout}${verify.stderr}`.trim();
    if (verify.status !== 0 || said !== "") problems.push(`systemd-analyze verify: ${said || `exit code ${verify.status}`}`);
    const security = spawnSync("systemd-analyze", ["security", "--offline=yes", `--threshold=${Math.round(threshold * 10)}`, `--root=${root}`, name], { encoding: "utf8" });
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
    if (security.status !== 0) problems.push(`systemd-analyze security: exposure ${exposure}, above ${threshold}${security.stderr.trim() ? `: ${security.stderr.trim()}` : ""}`);
    return { problems, exposure };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
