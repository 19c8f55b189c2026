import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { InvalidArgumentError, SwitchyardError } from "@switchyard/protocol";
import type { ClientAuth, ServerTlsOptions } from "@switchyard/transport";
import { resolveServerTls } from "@switchyard/transport/internal";
import { AccessList, type AclDocument } from "./acl/access-list.js";
import { readAclFile } from "./acl/acl-file.js";
import type { BrokerServer } from "./broker-server.js";
import type { BrokerLogger } from "./logger.js";
import type { BrokerServerOptions } from "./options.js";

/** The files the CLI is pointed at (paths), and the client-auth mode that goes with them. */
export interface CliFiles {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth?: ClientAuth;
  acl?: string;
  authTokenFile?: string;
}

/** CliFiles's path settings, by option name (flag: kebab-case, variable: SWITCHYARD_…). */
export const FILE_SETTINGS = ["tlsCert", "tlsKey", "tlsCa", "acl", "authTokenFile"] as const;

/** Ms between checks of the certificate and key files for a change. */
const WATCH_INTERVAL_MS = 2000;

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/** The broker's TLS settings from its files, or undefined without --tls-cert. Throws InvalidArgumentError naming an unreadable file. */
export function readTlsFiles(files: CliFiles): ServerTlsOptions | undefined {
  if (files.tlsCert === undefined || files.tlsKey === undefined) return undefined;
  return {
    cert: read(files.tlsCert, "TLS certificate file"),
    key: read(files.tlsKey, "TLS key file"),
    ...(files.tlsCa === undefined ? {} : { ca: read(files.tlsCa, "TLS CA file") }),
    ...(files.tlsClientAuth === undefined ? {} : { clientAuth: files.tlsClientAuth }),
  };
}

/** The ACL from --acl, or undefined without it. */
export function readAcl(files: CliFiles): AclDocument | undefined {
  return files.acl === undefined ? undefined : readAclFile(files.acl);
}

/**
 * Tokens from --auth-token-file: one a line, surrounding blanks trimmed; empty lines and lines
 * starting with `#` skipped. An empty file is an error (it would let nobody in, or everybody).
 */
export function readTokenFile(path: string): string[] {
  const tokens = read(path, "auth token file")
    .toString("utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (tokens.length === 0) throw new InvalidArgumentError(`the auth token file ${path} holds no token`);
  return tokens;
}

/**
 * Calls `onChange` when the certificate, key or CA file changes (checked by its modification time
 * every 2 s; a file replaced by a rename counts). Returns the function that stops watching.
 */
export function watchTlsFiles(files: CliFiles, onChange: () => void): () => void {
  const paths = [files.tlsCert, files.tlsKey, files.tlsCa].filter((path): path is string => path !== undefined);
  const listener = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs !== previous.mtimeMs) onChange();
  };
  for (const path of paths) watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, listener);
  return () => {
    for (const path of paths) unwatchFile(path, listener);
  };
}

/**
 * A file the CLI was pointed at cannot be read or used: a start-up failure (exit 1), not a usage
 * error, since the command line itself was fine.
 */
export class CliFileError extends SwitchyardError {
  override name = "CliFileError";
  declare readonly code: "FILE_UNUSABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super("FILE_UNUSABLE", message, options);
  }
}

/**
 * The options the CLI's files give, merged over `options` (tokens from --auth-token-file join
 * --auth-token's). Checks what the files hold, naming the file; throws CliFileError.
 */
export function withFiles(options: BrokerServerOptions, files: CliFiles): BrokerServerOptions {
  try {
    const merged: BrokerServerOptions = { ...options };
    const tls = readTlsFiles(files);
    if (tls !== undefined) {
      resolveServerTls(tls, `the TLS files ${files.tlsCert} and ${files.tlsKey}`);
      merged.tls = tls;
    }
    const acl = readAcl(files);
    if (acl !== undefined) {
      AccessList.from(acl, `the ACL file ${files.acl}`);
      merged.acl = acl;
    }
    if (files.authTokenFile !== undefined) merged.authTokens = [...(options.authTokens ?? []), ...readTokenFile(files.authTokenFile)];
    return merged;
  } catch (error) {
    throw new CliFileError((error as Error).message, { cause: error });
  }
}

/** What the start-up line adds for TLS: `" (tls, certificate expires …)"`, or "" for plaintext. */
export function tlsNote(server: BrokerServer): string {
  const tls = server.tls;
  return tls === null ? "" : ` (tls, certificate ${tls.subject} expires ${tls.validTo.toISOString()}, client auth ${tls.clientAuth})`;
}

/**
 * Re-reads the certificate, key and CA on SIGHUP and when their files change, and the ACL on
 * SIGHUP, handing them to the running server (no connection is dropped, except those an ACL
 * withdraws). A file that cannot be read or used is logged and the ones in use are kept.
 */
export function reloadOnHangup(server: BrokerServer, files: CliFiles, logger: BrokerLogger): void {
  const reloadTls = (why: string) => {
    try {
      const tls = readTlsFiles(files);
      if (tls !== undefined) server.setTls(tls);
    } catch (error) {
      logger.error({ why, err: (error as Error).message }, "TLS certificate not reloaded; the one in use stays");
    }
  };
  const reloadAcl = () => {
    try {
      const acl = readAcl(files);
      if (acl !== undefined) server.setAcl(acl);
    } catch (error) {
      logger.error({ err: (error as Error).message }, "ACL not reloaded; the one in use stays");
    }
  };
  process.on("SIGHUP", () => {
    logger.info({}, "SIGHUP: reloading the TLS certificate and the ACL");
    reloadTls("SIGHUP");
    reloadAcl();
  });
  if (files.tlsCert !== undefined) watchTlsFiles(files, () => reloadTls("file changed"));
}
