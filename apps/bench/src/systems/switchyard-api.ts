/**
 * The Switchyard client packages, loaded on demand: the peers still run when one is not built,
 * and the bench says which is missing instead of failing at start-up.
 */
import type * as AnetModule from "@switchyard/anet-broker";
import type * as ConsumerModule from "@switchyard/client-consumer";
import type * as ProviderModule from "@switchyard/client-provider";

/** Thrown when a Switchyard package the bench needs cannot be loaded (not built). */
export class PackageMissingError extends Error {
  readonly code = "PACKAGE_MISSING";
  override readonly name = "PackageMissingError";
}

async function load<T>(specifier: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    throw new PackageMissingError(`${specifier} cannot be loaded (is it built?): ${(cause as Error).message}`, { cause });
  }
}

/** Loads `@switchyard/client-consumer`. */
export function loadConsumerModule(): Promise<typeof ConsumerModule> {
  return load("@switchyard/client-consumer", () => import("@switchyard/client-consumer"));
}

/** Loads `@switchyard/client-provider`. */
export function loadProviderModule(): Promise<typeof ProviderModule> {
  return load("@switchyard/client-provider", () => import("@switchyard/client-provider"));
}

/** Loads `@switchyard/anet-broker`. */
export function loadAnetModule(): Promise<typeof AnetModule> {
  return load("@switchyard/anet-broker", () => import("@switchyard/anet-broker"));
}
