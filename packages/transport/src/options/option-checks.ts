import { InvalidArgumentError } from "@switchyard/protocol";

/** Bounds of a numeric option. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive). Default 0. */
  min?: number;
  /** Largest allowed value (inclusive). Default Infinity. */
  max?: number;
  /** Whether the value must be a whole number. Default true. */
  integer?: boolean;
}

/**
 * Resolves a numeric option: undefined gives `fallback`; anything else must be a number within
 * the bounds, or InvalidArgumentError names the option and the value. Used where options are
 * resolved once, at construction.
 */
export function numberOption(name: string, value: unknown, fallback: number, bounds: NumberBounds = {}): number {
  if (value === undefined) return fallback;
  const { min = 0, max = Number.POSITIVE_INFINITY, integer = true } = bounds;
  const ok = typeof value === "number" && !Number.isNaN(value) && value >= min && value <= max && (!integer || Number.isInteger(value) || value === Number.POSITIVE_INFINITY);
  if (!ok) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in ${min}..${max}`;
    throw new InvalidArgumentError(`${name} must be ${integer ? "an integer" : "a number"} ${range}, got ${String(value)}`);
  }
  return value;
}

/** Longest delay Node's timers take: 2³¹ − 1 ms, about 24.8 days (a longer one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration option in ms: `min` (default 0) ..= MAX_TIMER_MS, fractions allowed. */
export function msOption(name: string, value: unknown, fallback: number, min = 0): number {
  return numberOption(name, value, fallback, { min, max: MAX_TIMER_MS, integer: false });
}

/** Resolves an optional string option: undefined stays undefined; anything else must be a string. */
export function stringOption(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new InvalidArgumentError(`${name} must be a string, got ${typeof value}`);
}
