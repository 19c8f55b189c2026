import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

/** One reading of a process's CPU time and memory from /proc. */
export interface ProcSample {
  /** User + system CPU time since the process started, in milliseconds. */
  cpuMs: number;
  /** Resident set size now, in bytes (VmRSS). */
  rssBytes: number;
  /** Peak resident set size since the process started, in bytes (VmHWM). */
  peakRssBytes: number;
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status; undefined when the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the parenthesised command name (which may hold spaces): state is field 3,
    // utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    return {
      cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
      rssBytes: statusKb(status, "VmRSS") * 1024,
      peakRssBytes: statusKb(status, "VmHWM") * 1024,
    };
  } catch {
    return undefined;
  }
}

/** The soft and hard open-file limits of this process (from /proc/self/limits). */
export function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync("/proc/self/limits", "latin1")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").split(/\s{2,}/).slice(1, 3);
  const parse = (value: string | undefined) => (value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

function readClockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
