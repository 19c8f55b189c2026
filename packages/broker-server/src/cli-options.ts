import { parseArgs } from "node:util";
import { idToBytes, SwitchyardError } from "@switchyard/protocol";
import type { ClientAuth } from "@switchyard/transport";
import { CLIENT_AUTH_MODES } from "@switchyard/transport/internal";
import { type CliFiles, FILE_SETTINGS } from "./cli-files.js";
import {
  type BrokerServerOptions,
  checkNumericOption,
  DEFAULT_HOST,
  NUMERIC_OPTIONS,
  type NumericOption,
} from "./options.js";
import { MONITOR_USAGE, monitorFromCli } from "./monitor/monitor-cli.js";

/** pino's level names, quietest last. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default log level of the CLI. */
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/** The CLI was called with something it cannot use; the message names the flag or variable. */
export class UsageError extends SwitchyardError {
  override name = "UsageError";
  declare readonly code: "USAGE";

  constructor(message: string) {
    super("USAGE", message);
  }
}

/** What the command line and environment ask for. */
export interface CliSettings {
  help: boolean;
  /** `--version`: print the package version and exit. */
  version: boolean;
  logLevel: LogLevel;
  options: BrokerServerOptions;
  /** Files to read at start (and again on SIGHUP, or when they change): see cli-files.ts. */
  files: CliFiles;
}

const NUMERIC_NAMES = Object.keys(NUMERIC_OPTIONS) as NumericOption[];

/** `maxQueuedRequests` → `max-queued-requests`; a duration adds its unit: `readTimeout` → `read-timeout-ms`. */
function flagOf(name: string): string {
  const flag = name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  return NUMERIC_OPTIONS[name as NumericOption]?.unit === "ms" ? `${flag}-ms` : flag;
}

/** `maxQueuedRequests` → `SWITCHYARD_MAX_QUEUED_REQUESTS`. */
function envOf(name: string): string {
  return `SWITCHYARD_${flagOf(name).replaceAll("-", "_").toUpperCase()}`;
}

const STRING_SETTINGS = {
  host: "host",
  serverId: "server-id",
  logLevel: "log-level",
  monitor: "monitor",
  monitorToken: "monitor-token",
  tlsCert: "tls-cert",
  tlsKey: "tls-key",
  tlsCa: "tls-ca",
  tlsClientAuth: "tls-client-auth",
  acl: "acl",
  authTokenFile: "auth-token-file",
} as const;

/**
 * Reads the CLI's settings: every option from `--kebab-case` flags, else from `SWITCHYARD_*`
 * environment variables (flags win). `--auth-token` may repeat; SWITCHYARD_AUTH_TOKENS is a comma
 * list. Throws UsageError naming the flag or variable at fault.
 */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliSettings {
  const flags = parseFlags(argv);
  const read = (name: string): { value: string; label: string } | undefined => {
    const fromFlag = flags[flagOf(name)];
    if (typeof fromFlag === "string") return { value: fromFlag, label: `--${flagOf(name)}` };
    const fromEnv = env[envOf(name)];
    return fromEnv === undefined || fromEnv === "" ? undefined : { value: fromEnv, label: envOf(name) };
  };
  const options: BrokerServerOptions = {};
  for (const name of NUMERIC_NAMES) {
    const setting = read(name);
    if (setting !== undefined) options[name] = parseInteger(name, setting.value, setting.label);
  }
  const host = read("host");
  if (host !== undefined) {
    if (host.value.trim() === "") throw new UsageError(`${host.label} must name an interface, such as 127.0.0.1 or 0.0.0.0; got an empty value`);
    options.host = host.value;
  }
  const serverId = read("serverId");
  if (serverId !== undefined) {
    usageCheck(() => idToBytes(serverId.value, serverId.label));
    options.serverId = serverId.value;
  }
  const tokens = (flags["auth-token"] as string[] | undefined) ?? env.SWITCHYARD_AUTH_TOKENS?.split(",").map((token) => token.trim()).filter(Boolean);
  if (tokens !== undefined && tokens.length > 0) options.authTokens = tokens;
  const perChannel = flags["metrics-per-channel"] === true ? { value: "", label: "--metrics-per-channel" } : read("metricsPerChannel");
  usageCheck(() => {
    const monitor = monitorFromCli(read("monitor"), read("monitorToken"), perChannel);
    if (monitor !== undefined) options.monitor = monitor;
  });
  const files: CliFiles = {};
  for (const name of FILE_SETTINGS) {
    const setting = read(name);
    if (setting !== undefined) files[name] = setting.value;
  }
  const clientAuth = read("tlsClientAuth");
  if (clientAuth !== undefined) {
    if (!(CLIENT_AUTH_MODES as readonly string[]).includes(clientAuth.value)) {
      throw new UsageError(`${clientAuth.label} must be one of ${CLIENT_AUTH_MODES.join(", ")}, got ${JSON.stringify(clientAuth.value)}`);
    }
    files.tlsClientAuth = clientAuth.value as ClientAuth;
  }
  checkFiles(files);
  const level = read("logLevel");
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level.value)) {
    throw new UsageError(`${level.label} must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level.value)}`);
  }
  return { help: flags.help === true, version: flags.version === true, logLevel: (level?.value as LogLevel | undefined) ?? DEFAULT_LOG_LEVEL, options, files };
}

/** Runs `check`; an error it throws becomes a UsageError with the same message. */
function usageCheck(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Flags that only make sense together; a missing partner is a usage error. */
function checkFiles(files: CliFiles): void {
  if ((files.tlsCert === undefined) !== (files.tlsKey === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together (or SWITCHYARD_TLS_CERT and SWITCHYARD_TLS_KEY): give both");
  }
  if (files.tlsCert === undefined && (files.tlsCa !== undefined || files.tlsClientAuth !== undefined)) {
    throw new UsageError("--tls-ca and --tls-client-auth need --tls-cert and --tls-key");
  }
  if (files.tlsClientAuth !== undefined && files.tlsClientAuth !== "none" && files.tlsCa === undefined) {
    throw new UsageError(`--tls-client-auth ${files.tlsClientAuth} needs --tls-ca: the CA that signs client certificates`);
  }
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  const spec: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
    "auth-token": { type: "string", multiple: true },
    "metrics-per-channel": { type: "boolean" },
  };
  for (const name of [...NUMERIC_NAMES, ...Object.keys(STRING_SETTINGS)]) spec[flagOf(name)] = { type: "string" };
  try {
    return parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parseInteger(name: NumericOption, text: string, label: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${label} must be a whole number, got ${JSON.stringify(text)}`);
  try {
    return checkNumericOption(name, Number(text), label);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The text `--help` prints. */
export function usage(): string {
  const rows: Array<[string, string]> = [
    ["--host <address>", `interface to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for all)  [SWITCHYARD_HOST]`],
    ...NUMERIC_NAMES.map((name): [string, string] => [
      `--${flagOf(name)} <n>`,
      `${NUMERIC_OPTIONS[name].help} (default ${NUMERIC_OPTIONS[name].default})  [${envOf(name)}]`,
    ]),
    ["--auth-token <token>", "accept only registrations carrying this token; repeatable  [SWITCHYARD_AUTH_TOKENS, comma-separated]"],
    ["--auth-token-file <file>", "like --auth-token, one token a line (# comments), kept out of the process list  [SWITCHYARD_AUTH_TOKEN_FILE]"],
    ["--tls-cert <file>", "serve TLS with this certificate chain (PEM); re-read on SIGHUP and when it changes  [SWITCHYARD_TLS_CERT]"],
    ["--tls-key <file>", "the certificate's private key (PEM); needed with --tls-cert  [SWITCHYARD_TLS_KEY]"],
    ["--tls-ca <file>", "CA certificates that client certificates must chain to (PEM)  [SWITCHYARD_TLS_CA]"],
    ["--tls-client-auth <mode>", `${CLIENT_AUTH_MODES.join("|")}: ask clients for a certificate (default none)  [SWITCHYARD_TLS_CLIENT_AUTH]`],
    ["--acl <file>", "per-channel permissions, JSON or YAML (see README \"Security\"); re-read on SIGHUP  [SWITCHYARD_ACL]"],
    ["--server-id <uuid>", "id sent in registration acks (default random)  [SWITCHYARD_SERVER_ID]"],
    ...MONITOR_USAGE,
    ["--log-level <level>", `${LOG_LEVELS.join("|")} (default ${DEFAULT_LOG_LEVEL}); logs go to stderr  [SWITCHYARD_LOG_LEVEL]`],
    ["-h, --help", "print this help"],
    ["--version", "print the version"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    "Usage: switchyard-broker [options]",
    "",
    "Runs the Switchyard broker: routes requests from consumers to the providers of their channel.",
    "Prints `switchyard-broker listening on HOST:PORT` once listening; SIGINT/SIGTERM drain, then exit 0.",
    "Sizes are bytes, times milliseconds. Flags win over environment variables.",
    "",
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    "",
  ].join("\n");
}
