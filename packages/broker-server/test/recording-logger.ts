import type { BrokerLogger } from "../src/index.js";

/** One line a RecordingLogger kept. */
export interface LoggedLine {
  fields: Record<string, unknown>;
  message: string;
}

/** A BrokerLogger that keeps its warn lines (and drops the rest), for tests of what is logged. */
export function recordingLogger(): { logger: BrokerLogger; warnings: LoggedLine[] } {
  const warnings: LoggedLine[] = [];
  const ignore = () => {};
  const logger = {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (fields: unknown, message?: string) => warnings.push({ fields: fields as Record<string, unknown>, message: message ?? "" }),
  } as BrokerLogger;
  return { logger, warnings };
}
