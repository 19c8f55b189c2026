import { writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { sampleProcess } from "../src/proc/proc-stats.js";
import { ProcessMeter } from "../src/proc/process-meter.js";

describe("a process's /proc sample", () => {
  it("counts the times it slept waiting and the read and write system calls it made", async () => {
    const before = sampleProcess(process.pid)!;
    for (let i = 0; i < 20; i++) {
      writeSync(1, ""); // a write system call, of nothing
      await sleep(2); // the event loop waits in the kernel: a voluntary context switch
    }
    const after = sampleProcess(process.pid)!;
    expect(after.syscalls - before.syscalls).toBeGreaterThanOrEqual(20);
    expect(after.sleeps - before.sleeps).toBeGreaterThanOrEqual(10);
  });

  it("is undefined for a process that is gone", () => {
    expect(sampleProcess(2 ** 22 + 1)).toBeUndefined(); // above the kernel's largest pid
  });
});

describe("ProcessMeter", () => {
  it("reports sleeps and system calls per request over the window", async () => {
    const meter = new ProcessMeter([{ role: "me", pid: process.pid }]);
    meter.start();
    for (let i = 0; i < 10; i++) {
      writeSync(1, "");
      await sleep(2);
    }
    meter.stop();
    const report = meter.report(process.pid, 10)!;
    expect(report.sleepsPerRequest).toBeGreaterThanOrEqual(0.5);
    expect(report.syscallsPerRequest).toBeGreaterThanOrEqual(1);
    expect(meter.report(process.pid, 0)?.sleepsPerRequest).toBeUndefined();
  });
});
