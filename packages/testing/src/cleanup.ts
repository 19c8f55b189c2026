import { afterEach } from "vitest";
import { closeCheckingLeaks, LEAK_GRACE_MS, type LeakCheckable } from "./leak-check.js";

type Cleanup = () => Promise<void> | void;

/** Clients and anything else the test opened: run first, last registered first. */
const cleanups: Cleanup[] = [];
/** Servers checked for leaks: run once every client is closed, last registered first. */
const serverCleanups: Cleanup[] = [];

/** Runs `cleanup` after the current test, last registered first, before any server is checked for leaks. */
export function onCleanup(cleanup: Cleanup): void {
  cleanups.push(cleanup);
}

/**
 * Closes `server` after the current test, once every onCleanup (the clients) has run, and fails
 * the test (ConnectionLeakError) if it still holds a connection `graceMs` later. A server started
 * after its clients (a restart) is thus still checked after them. Returns `server`.
 */
export function closeAfterTest<T extends LeakCheckable>(server: T, graceMs = LEAK_GRACE_MS): T {
  serverCleanups.push(() => closeCheckingLeaks(server, graceMs));
  return server;
}

/**
 * Runs every cleanup, then every server check, each even if an earlier one failed, then throws
 * the first failure: a leak found in one server must not leave the next one open.
 */
export async function runCleanups(): Promise<void> {
  const failures: unknown[] = [];
  for (const list of [cleanups, serverCleanups]) {
    while (list.length > 0) {
      try {
        await list.pop()!();
      } catch (error) {
        failures.push(error);
      }
    }
  }
  if (failures.length > 0) throw failures[0];
}

afterEach(runCleanups);
