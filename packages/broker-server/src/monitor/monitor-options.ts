import { InvalidArgumentError } from "@switchyard/protocol";
import { parseAddress } from "@switchyard/transport/internal";

/** Default interface of the monitoring listener: loopback only. */
export const DEFAULT_MONITOR_HOST = "127.0.0.1";
/** Default port of the monitoring listener when only `monitor: {}` is given: 9091. */
export const DEFAULT_MONITOR_PORT = 9091;

/**
 * The monitoring HTTP listener (`/livez`, `/readyz`, `/metrics`, `/status`, `/connections`,
 * `/channels`, and the status page at `/`). Off unless given.
 */
export interface MonitorOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** TCP port; 0 picks a free one (read it back with `monitorAddress()`). Default 9091. */
  port?: number;
  /**
   * When set, every endpoint but `/livez`, `/readyz` and the status page's static files needs
   * `Authorization: Bearer <token>`, else 401.
   */
  token?: string;
  /** Label metrics per channel too (one series per channel: mind the cardinality). Default false. */
  perChannelMetrics?: boolean;
}

/** MonitorOptions with defaults applied and values checked. */
export interface ResolvedMonitorOptions {
  host: string;
  port: number;
  token: string | null;
  perChannelMetrics: boolean;
}

/** Checks the monitor options; InvalidArgumentError names a bad one. */
export function resolveMonitorOptions(options: MonitorOptions): ResolvedMonitorOptions {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError("monitor must be an object like { host, port, token }");
  const host = options.host ?? DEFAULT_MONITOR_HOST;
  if (typeof host !== "string" || host.length === 0) throw new InvalidArgumentError(`monitor.host must be a non-empty string, got ${JSON.stringify(host)}`);
  const port = options.port ?? DEFAULT_MONITOR_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`monitor.port must be a whole number 0 ..= 65535, got ${JSON.stringify(port)}`);
  const token = options.token ?? null;
  if (token !== null && (typeof token !== "string" || token.length === 0)) throw new InvalidArgumentError("monitor.token must be a non-empty string");
  return { host, port, token, perChannelMetrics: options.perChannelMetrics === true };
}

/**
 * Reads `HOST:PORT` (IPv6 in brackets: `[::1]:9091`; port 0 picks one) as the CLI's `--monitor`
 * takes it; throws InvalidArgumentError naming `label` for anything else, TLS included (the
 * monitor speaks plain HTTP: keep it on loopback or a private interface).
 */
export function parseMonitorAddress(text: string, label: string): { host: string; port: number } {
  const { host, port, scheme } = parseAddress(text, label, { allowPortZero: true });
  if (scheme === "tls") throw new InvalidArgumentError(`${label} ${JSON.stringify(text)}: the monitor serves plain HTTP, not TLS; give HOST:PORT`);
  return { host, port };
}
