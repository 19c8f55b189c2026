/** Thrown by {@link check}: the demo stops at the first check that does not hold. */
export class DemoCheckError extends Error {
  readonly code = "DEMO_CHECK_FAILED";
  override readonly name = "DemoCheckError";
}

/** One of the demo's checks: what it printed must be what the system promises. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new DemoCheckError(`demo check failed: ${what}`);
}
