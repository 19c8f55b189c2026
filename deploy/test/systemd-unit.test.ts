import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { brokerCommand, brokerRefuses } from "./broker-cli.js";
import { analyzeUnit, ensureSystemdAnalyze, execStart, INSTANCE, readEnvironmentFile, readUnit, unitProblems } from "./systemd-checks.js";

const DIR = path.join(import.meta.dirname, "..", "systemd");
const UNIT = readFileSync(path.join(DIR, "switchyard-broker@.service"), "utf8");
/** The example environment files, as /etc/switchyard/broker.env and broker@9090.env. */
const ENV = {
  ...readEnvironmentFile(readFileSync(path.join(DIR, "broker.env"), "utf8")),
  ...readEnvironmentFile(readFileSync(path.join(DIR, `broker@${INSTANCE}.env`), "utf8")),
};
/** Exposure level (systemd-analyze security, 0 … 10) the unit must stay at or under. */
const MAX_EXPOSURE = 2;

/** The unit with `from` (a whole line) replaced by `to`; fails if the line is not there. */
function edited(from: string, to: string): string {
  expect(UNIT.split("\n")).toContain(from);
  return UNIT.replace(`${from}\n`, to === "" ? "" : `${to}\n`);
}

describe("deploy/systemd/switchyard-broker@.service", () => {
  beforeAll(() => ensureSystemdAnalyze());

  it("passes systemd-analyze verify without a word, and security --offline at exposure 2 or under", () => {
    const { problems, exposure } = analyzeUnit(UNIT, MAX_EXPOSURE);
    expect(problems).toEqual([]);
    expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it("fails systemd-analyze verify for a misspelt key or a bad value, and security for a unit without its hardening", () => {
    expect(analyzeUnit(edited("ProtectSystem=strict", "ProtectSytem=strict"), MAX_EXPOSURE).problems.join("\n")).toMatch(/verify: .*Unknown key 'ProtectSytem'/);
    expect(analyzeUnit(edited("Restart=on-failure", "Restart=sometimes"), MAX_EXPOSURE).problems.join("\n")).toMatch(/verify: .*restart specifier/);
    const bare = UNIT.replace(/\n# No user of its own[\s\S]*\n\[Install\]/, "\n[Install]");
    expect(bare).not.toContain("DynamicUser");
    const { problems, exposure } = analyzeUnit(bare, MAX_EXPOSURE);
    expect(exposure).toBeGreaterThan(MAX_EXPOSURE);
    expect(problems.join("\n")).toMatch(/security: exposure [\d.]+, above 2/);
  });

  it("runs the broker with flags and variables it accepts, the instance name as its port", () => {
    const unit = readUnit(UNIT);
    expect(unitProblems(unit, ENV)).toEqual([]);
    const { nodeFlags, args } = brokerCommand(execStart(unit));
    expect(nodeFlags).toEqual(["--initial-old-space-size=64"]);
    expect(args.slice(0, 2)).toEqual(["--port", INSTANCE]);
    expect(brokerRefuses(args, ENV)).toBeUndefined();
    // The same check refuses what the broker would refuse.
    expect(brokerRefuses([...args, "--drain-timeout-ms", "soon"], ENV)).toMatch(/--drain-timeout-ms must be a whole number/);
    expect(brokerRefuses(args, { ...ENV, SWITCHYARD_MONITOR: "127.0.0.1" })).toMatch(/SWITCHYARD_MONITOR/);
  });

  it("names each broken promise of the unit", () => {
    const problems = (text: string, env: Record<string, string> = ENV) => unitProblems(readUnit(text), env).join("\n");
    const node = "/usr/bin/env node --initial-old-space-size=64";
    const start = `ExecStart=${node} /usr/local/bin/switchyard-broker --port %i --drain-timeout-ms 15000`;
    expect(problems(edited(start, `ExecStart=${node} /usr/local/bin/switchyard-broker --port %i --drain-timout-ms 15000`))).toMatch(/"--drain-timout-ms" is not a switchyard-broker flag/);
    expect(problems(edited(start, `ExecStart=${node} /usr/local/bin/switchyard-broker --port 9090 --drain-timeout-ms 15000`))).toMatch(/does not give --port %i/);
    expect(problems(edited(start, `ExecStart=${node} switchyard-broker --port %i --drain-timeout-ms 15000`))).toMatch(/not switchyard-broker by its absolute path/);
    expect(problems(edited(start, "ExecStart=/usr/local/bin/switchyard-broker --port %i --drain-timeout-ms 15000"))).toMatch(/does not run node --initial-old-space-size=64 on the broker/);
    expect(problems(edited(start, "ExecStart=/usr/bin/env node /usr/local/bin/switchyard-broker --port %i --drain-timeout-ms 15000"))).toMatch(/does not run node --initial-old-space-size=64/);
    expect(problems(edited(start, `ExecStart=${node} /usr/local/bin/switchyard-broker --port %i --drain-timeout-ms 40000`))).toMatch(/TimeoutStopSec=30 must exceed --drain-timeout-ms 40000 \+ --write-timeout-ms 5000/);
    expect(problems(edited("TimeoutStopSec=30", "TimeoutStopSec=20s"))).toMatch(/TimeoutStopSec=20s must exceed/);
    expect(problems(UNIT, { ...ENV, SWITCHYARD_WRITE_TIMEOUT_MS: "20000" })).toMatch(/must exceed --drain-timeout-ms 15000 \+ --write-timeout-ms 20000/);
    expect(problems(UNIT, { ...ENV, SWITCHYARD_MONITR: "127.0.0.1:19090" })).toMatch(/SWITCHYARD_MONITR is not a variable the broker reads/);
    expect(problems(edited("KillSignal=SIGTERM", "KillSignal=SIGKILL"))).toMatch(/KillSignal=SIGKILL/);
    expect(problems(edited("Restart=on-failure", "Restart=no"))).toMatch(/Restart=no/);
    expect(problems(edited("LimitNOFILE=65536", "LimitNOFILE=1024"))).toMatch(/LimitNOFILE=1024 is not above --max-connections 16384/);
    expect(problems(edited("DynamicUser=yes", ""))).toMatch(/DynamicUser=undefined, not yes/);
    expect(problems(edited("NoNewPrivileges=yes", "NoNewPrivileges=no"))).toMatch(/NoNewPrivileges=no, not yes/);
    expect(problems(edited("ProtectSystem=strict", "ProtectSystem=full"))).toMatch(/ProtectSystem=full, not strict/);
    expect(problems(edited("UMask=0077", "UMask=0077\nMemoryDenyWriteExecute=yes"))).toMatch(/MemoryDenyWriteExecute=yes stops V8's JIT/);
  });
});
