import { SwitchyardError } from "@switchyard/protocol";

/** A query parameter the monitor cannot use: answered 400 with this message. */
export class BadQueryError extends SwitchyardError {
  override name = "BadQueryError";
  declare readonly code: "BAD_QUERY";

  constructor(message: string) {
    super("BAD_QUERY", message);
  }
}

/** How one query parameter is read: a whole number in a range, or one of a list of words. */
export type QueryParam = { kind: "integer"; min: number; max: number; default: number } | { kind: "choice"; choices: readonly string[]; default: string };

/** What an endpoint accepts, by parameter name. */
export type QuerySpec = Readonly<Record<string, QueryParam>>;

/** The values read, defaults filled in. */
export type QueryValues<S extends QuerySpec> = { [K in keyof S]: S[K] extends { kind: "integer" } ? number : string };

/**
 * Reads `params` against `spec`: every parameter known, given at most once and in range, else
 * BadQueryError saying which and what is allowed.
 */
export function readQuery<S extends QuerySpec>(params: URLSearchParams, spec: S): QueryValues<S> {
  for (const name of new Set(params.keys())) {
    if (!(name in spec)) {
      const known = Object.keys(spec);
      throw new BadQueryError(`unknown query parameter ${JSON.stringify(name)}; ${known.length === 0 ? "this endpoint takes none" : `known: ${known.join(", ")}`}`);
    }
    if (params.getAll(name).length > 1) throw new BadQueryError(`query parameter ${name} given more than once`);
  }
  const values: Record<string, number | string> = {};
  for (const [name, param] of Object.entries(spec)) {
    const text = params.get(name);
    if (text === null) {
      values[name] = param.default;
    } else if (param.kind === "integer") {
      const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
      if (!(value >= param.min && value <= param.max)) throw new BadQueryError(`${name} must be a whole number ${param.min} ..= ${param.max}, got ${JSON.stringify(text)}`);
      values[name] = value;
    } else {
      if (!param.choices.includes(text)) throw new BadQueryError(`${name} must be one of ${param.choices.join(", ")}, got ${JSON.stringify(text)}`);
      values[name] = text;
    }
  }
  return values as QueryValues<S>;
}
