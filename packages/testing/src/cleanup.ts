import { afterEach } from "vitest";
import { closeCheckingLeaks, LEAK_GRACE_MS, type LeakCheckable } from "./leak-check.js";

const cleanups: Array<() => Promise<void> | void> = [];

/** Runs `cleanup` after the current test, last registered first (a client before its server). */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/**
 * Closes `server` after the current test, and fails the test (ConnectionLeakError) if it still
 * holds a connection `graceMs` after the cleanups registered later (its clients) have run.
 * Returns `server`.
 */
export function closeAfterTest<T extends LeakCheckable>(server: T, graceMs = LEAK_GRACE_MS): T {
  onCleanup(() => closeCheckingLeaks(server, graceMs));
  return server;
}

/**
 * Runs every cleanup, each even if an earlier one failed, then throws the first failure: a leak
 * found in one server must not leave the next one open.
 */
export async function runCleanups(): Promise<void> {
  const failures: unknown[] = [];
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}

afterEach(runCleanups);
