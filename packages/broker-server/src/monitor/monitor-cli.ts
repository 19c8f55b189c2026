import type { MonitorOptions } from "./monitor-options.js";
import { parseMonitorAddress } from "./monitor-options.js";

/** A setting as the CLI found it: its text and the flag or variable it came from. */
export interface CliSetting {
  value: string;
  label: string;
}

/** The `--help` rows of the monitor's flags. */
export const MONITOR_USAGE: ReadonlyArray<[string, string]> = [
  ["--monitor <host:port>", "serve /livez /readyz /metrics /status /connections /channels and a status page at / (port 0 picks one; default off)  [SWITCHYARD_MONITOR]"],
  ["--monitor-token <token>", "require Authorization: Bearer <token> on the monitor (but /livez, /readyz)  [SWITCHYARD_MONITOR_TOKEN]"],
  ["--metrics-per-channel", "also label metrics per channel (one series per channel)  [SWITCHYARD_METRICS_PER_CHANNEL=1]"],
];

/**
 * The monitor's options from `--monitor HOST:PORT`, `--monitor-token` and `--metrics-per-channel`
 * (or their SWITCHYARD_* variables), undefined when no monitor is asked for. Throws (the caller
 * wraps it as a usage error) for a bad address, or a token or per-channel flag without --monitor.
 */
export function monitorFromCli(address: CliSetting | undefined, token: CliSetting | undefined, perChannel: CliSetting | undefined): MonitorOptions | undefined {
  if (address === undefined) {
    const orphan = token ?? perChannel;
    if (orphan !== undefined) throw new Error(`${orphan.label} needs --monitor HOST:PORT`);
    return undefined;
  }
  if (perChannel !== undefined && !["1", "true", ""].includes(perChannel.value)) {
    throw new Error(`${perChannel.label} must be 1 or true, got ${JSON.stringify(perChannel.value)}`);
  }
  return {
    ...parseMonitorAddress(address.value, address.label),
    ...(token === undefined ? {} : { token: token.value }),
    perChannelMetrics: perChannel !== undefined,
  };
}
