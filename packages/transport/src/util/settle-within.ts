import { setTimeout as sleep } from "node:timers/promises";

/** Waits for `promise` to settle, but no longer than `ms` or until `signal` aborts. Never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<void> {
  const timer = new AbortController();
  const stop = () => timer.abort();
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    await Promise.race([promise, sleep(ms, undefined, { signal: timer.signal })]).catch(() => {});
  } finally {
    timer.abort();
    signal?.removeEventListener("abort", stop);
  }
}
