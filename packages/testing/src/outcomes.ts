import { expect } from "vitest";

/** Settles every promise and returns the outcomes, for asserting on many failures at once. */
export async function outcomes<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (value) => ({ status: "fulfilled" as const, value }),
        (reason: unknown) => ({ status: "rejected" as const, reason }),
      ),
    ),
  );
}

/** The `code` of each rejection (undefined for a fulfilment). */
export function codes(results: PromiseSettledResult<unknown>[]): Array<string | undefined> {
  return results.map((result) => (result.status === "rejected" ? (result.reason as { code?: string }).code : undefined));
}

/** Asserts that a promise rejects with an error of `code`, and returns the error. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<Error & { code: string; cause?: unknown }> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason as Error & { code: string },
  );
  expect(error, `expected a rejection with ${code}`).toBeDefined();
  expect(error!.code).toBe(code);
  return error!;
}
