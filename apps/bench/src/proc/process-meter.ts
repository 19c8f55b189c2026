import type { ProcessReport } from "../run-result.js";
import { type ProcSample, sampleProcess } from "./proc-stats.js";

const MB = 1e6;

/** What a process spent inside the measured windows, summed, and its memory at the last window's end. */
interface Spent {
  cpuMs: number;
  sleeps: number;
  syscalls: number;
  /** False once a window found /proc/<pid>/io unreadable. */
  syscallsKnown: boolean;
  last: ProcSample;
}

/**
 * Brackets measured windows for a set of processes: `start()` and `stop()` read each one's /proc
 * counters, and what was spent between them adds up over every window (one in a plain run, several
 * in an interleaved one); `report()` turns the sums into CPU, sleeps and system calls per request,
 * and memory at the last window's end.
 */
export class ProcessMeter {
  readonly #processes: Array<{ role: string; pid: number }>;
  readonly #spent = new Map<number, Spent>();
  #before = new Map<number, ProcSample | undefined>();

  constructor(processes: Array<{ role: string; pid: number }>) {
    this.#processes = processes;
  }

  start(): void {
    this.#before = this.#sampleAll();
  }

  /** Ends a window; a process gone at either of its edges adds nothing for it. */
  stop(): void {
    for (const [pid, after] of this.#sampleAll()) {
      const before = this.#before.get(pid);
      if (before === undefined || after === undefined) continue;
      const spent = this.#spent.get(pid) ?? { cpuMs: 0, sleeps: 0, syscalls: 0, syscallsKnown: true, last: after };
      spent.cpuMs += after.cpuMs - before.cpuMs;
      spent.sleeps += after.sleeps - before.sleeps;
      spent.syscalls += after.syscalls - before.syscalls;
      spent.syscallsKnown &&= after.syscalls > 0;
      spent.last = after;
      this.#spent.set(pid, spent);
    }
  }

  /** The report of the process with `pid` for `requests` completed requests. */
  report(pid: number, requests: number): ProcessReport | undefined {
    const entry = this.#processes.find((p) => p.pid === pid);
    const spent = this.#spent.get(pid);
    if (entry === undefined || spent === undefined) return undefined;
    const perRequest = (total: number) => (requests > 0 ? total / requests : undefined);
    return {
      role: entry.role,
      pid,
      cpuMs: spent.cpuMs,
      cpuUsPerRequest: perRequest(spent.cpuMs * 1000),
      rssMB: spent.last.rssBytes / MB,
      peakRssMB: spent.last.peakRssBytes / MB,
      sleepsPerRequest: perRequest(spent.sleeps),
      syscallsPerRequest: spent.syscallsKnown ? perRequest(spent.syscalls) : undefined,
    };
  }

  #sampleAll(): Map<number, ProcSample | undefined> {
    return new Map(this.#processes.map((p) => [p.pid, sampleProcess(p.pid)]));
  }
}
