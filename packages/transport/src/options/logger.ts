/** One logging method: structured fields first, then a message (pino's signature). */
export type LogMethod = (fields: Record<string, unknown>, message?: string) => void;

/**
 * What clients log through; a pino logger fits as it is. Connection lifecycle is logged at debug,
 * faults the client recovers from (a lost broker, a refused reconnect, a dropped response) at warn.
 */
export interface Logger {
  debug: LogMethod;
  warn: LogMethod;
}

const ignore: LogMethod = () => {};

/** Drops everything: the default, so a library that embeds a client prints nothing. */
export const silentLogger: Logger = { debug: ignore, warn: ignore };
