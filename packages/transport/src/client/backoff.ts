/** Default first delay, in ms, before dialling again after a lost connection or a failed dial. */
export const DEFAULT_RECONNECT_DELAY = 100;
/** Default longest delay, in ms, between dials while they keep failing. */
export const DEFAULT_MAX_RECONNECT_DELAY = 5000;

/**
 * Delay before reconnect attempt number `attempt` (0 for the first): capped exponential backoff
 * with "equal jitter". The un-jittered delay doubles from `initialMs` up to `maxMs`; the result is
 * drawn uniformly from its upper half, so clients that lost the same broker spread their retries
 * instead of arriving together, yet none retries sooner than half the nominal delay.
 *
 *   attempt:   0      1      2      3   …   n
 *   nominal:  100    200    400    800  …  min(maxMs, 100·2ⁿ)
 *   result:   [nominal/2, nominal)
 *
 * `random` returns a number in [0, 1); injectable for tests.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  // 2 ** attempt overflows to Infinity for large attempts; Math.min keeps the cap.
  const nominal = Math.min(maxMs, initialMs * 2 ** attempt);
  const half = nominal / 2;
  return Math.round(half + random() * half);
}
