import type { Logger, LogMethod } from "@switchyard/transport";

export type { LogMethod };

/**
 * What the broker logs through: the clients' Logger plus info and error. A pino logger fits as it
 * is. Connection-level events are logged at debug, lifecycle at info, faults at warn/error;
 * nothing is logged per request.
 */
export interface BrokerLogger extends Logger {
  info: LogMethod;
  error: LogMethod;
}

const ignore: LogMethod = () => {};

/** A logger that drops everything: the library default, so embedding the broker prints nothing. */
export const silentLogger: BrokerLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
