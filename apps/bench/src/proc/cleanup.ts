/**
 * Undo steps collected while setting something up, run last-in first-out (clients before the
 * servers they talk to). Every step runs even when an earlier one fails.
 */
export class Cleanup {
  readonly #steps: Array<() => unknown> = [];

  /** Registers `step`; returns `value` so a setup line can register its own undo inline. */
  add<T>(value: T, step: (value: T) => unknown): T {
    this.#steps.push(() => step(value));
    return value;
  }

  /** Runs every step, newest first. Idempotent. */
  async run(): Promise<void> {
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step();
      } catch {
        // Tearing down after a benchmark: a step that fails (peer already gone) must not stop the rest.
      }
    }
  }
}
