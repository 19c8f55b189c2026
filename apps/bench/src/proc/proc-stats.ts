import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

/** One reading of a process's CPU time, memory and kernel activity from /proc. */
export interface ProcSample {
  /** User + system CPU time since the process started, in milliseconds. */
  cpuMs: number;
  /** Resident set size now, in bytes (VmRSS). */
  rssBytes: number;
  /** Peak resident set size since the process started, in bytes (VmHWM). */
  peakRssBytes: number;
  /** Times it went to sleep waiting (voluntary context switches) since it started. */
  sleeps: number;
  /** Read and write system calls since it started (syscr + syscw of /proc/<pid>/io; 0 where that file cannot be read). */
  syscalls: number;
}

/** Reads /proc/<pid>/stat, /proc/<pid>/status and /proc/<pid>/io; undefined when the process is gone. */
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
      rssBytes: fieldNumber(status, "VmRSS") * 1024,
      peakRssBytes: fieldNumber(status, "VmHWM") * 1024,
      sleeps: fieldNumber(status, "voluntary_ctxt_switches"),
      syscalls: readSyscalls(pid),
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

/** The number after `field:` at the start of a line of a /proc file ("VmRSS:  1234 kB" → 1234); 0 if absent. */
function fieldNumber(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}

/** syscr + syscw: /proc/<pid>/io is readable only by the process's owner (or root), so 0 when refused. */
function readSyscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, "latin1");
    return fieldNumber(io, "syscr") + fieldNumber(io, "syscw");
  } catch {
    return 0;
  }
}

function readClockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
