import type { ProcessReport } from "../run-result.js";
import { type ProcSample, sampleProcess } from "./proc-stats.js";

const MB = 1e6;

/**
 * Brackets a measured window for a set of processes: `start()` and `stop()` read each one's
 * /proc counters, `report()` turns the difference into CPU, sleeps and system calls per request,
 * and memory.
 */
export class ProcessMeter {
  readonly #processes: Array<{ role: string; pid: number }>;
  #before = new Map<number, ProcSample | undefined>();
  #after = new Map<number, ProcSample | undefined>();

  constructor(processes: Array<{ role: string; pid: number }>) {
    this.#processes = processes;
  }

  start(): void {
    this.#before = this.#sampleAll();
  }

  stop(): void {
    this.#after = this.#sampleAll();
  }

  /** The report of the process with `pid` for `requests` completed requests. */
  report(pid: number, requests: number): ProcessReport | undefined {
    const entry = this.#processes.find((p) => p.pid === pid);
    const before = this.#before.get(pid);
    const after = this.#after.get(pid);
    if (entry === undefined || before === undefined || after === undefined) return undefined;
    const cpuMs = after.cpuMs - before.cpuMs;
    const perRequest = (delta: number) => (requests > 0 ? delta / requests : undefined);
    return {
      role: entry.role,
      pid,
      cpuMs,
      cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : undefined,
      rssMB: after.rssBytes / MB,
      peakRssMB: after.peakRssBytes / MB,
      sleepsPerRequest: perRequest(after.sleeps - before.sleeps),
      syscallsPerRequest: after.syscalls === 0 ? undefined : perRequest(after.syscalls - before.syscalls),
    };
  }

  #sampleAll(): Map<number, ProcSample | undefined> {
    return new Map(this.#processes.map((p) => [p.pid, sampleProcess(p.pid)]));
  }
}
