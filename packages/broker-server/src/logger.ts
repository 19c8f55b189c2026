/** One logging method: structured fields first, then a message (pino's signature). */
export type LogMethod = (fields: Record<string, unknown>, message?: string) => void;

/**
 * What the broker logs through. A pino logger fits as it is. Connection-level events are logged
 * at debug, lifecycle at info, faults at warn/error; nothing is logged per request.
 */
export interface BrokerLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const ignore: LogMethod = () => {};

/** A logger that drops everything: the library default, so embedding the broker prints nothing. */
export const silentLogger: BrokerLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
