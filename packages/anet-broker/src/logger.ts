/**
 * Where the broker reports what it recovers from (lost connections, misbehaving servers, refused
 * dials). `console` and a pino logger fit as they are: each call passes one finished string.
 */
export interface AnetLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** The default logger: says nothing. Failures still reach callers and the broker's `stats`. */
export const SILENT_LOGGER: AnetLogger = Object.freeze({ warn() {}, error() {} });
