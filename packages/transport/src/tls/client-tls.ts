import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { InvalidArgumentError } from "@switchyard/protocol";
import type { ParsedAddress } from "../options/address.js";

/** PEM text or bytes, or a list of them (a CA bundle). */
export type Pem = string | Buffer | ReadonlyArray<string | Buffer>;

/**
 * TLS settings of a client (consumer, provider, anet's tcpFactory). Every field optional: `{}`
 * verifies the server against Node's built-in CA list.
 */
export interface ClientTlsOptions {
  /** CA certificate(s) that signed the server's certificate (PEM). Default: Node's built-in CAs. */
  ca?: Pem;
  /** This client's certificate (PEM), for servers that ask for one (mutual TLS). Needs `key`. */
  cert?: Pem;
  /** The private key of `cert` (PEM). */
  key?: Pem;
  /** Name the server's certificate must carry (and SNI). Default: the address's host. */
  servername?: string;
  /** Refuse a server whose certificate does not verify. Default true; false is for tests only. */
  rejectUnauthorized?: boolean;
}

/** TLS 1.2 at least, on every side. */
export const MIN_TLS_VERSION = "TLSv1.2";

const TLS_KEYS = new Set(["ca", "cert", "key", "servername", "rejectUnauthorized"]);

/**
 * Decides whether a connection to `address` uses TLS and with what: `tls://` or a `tls` option
 * means TLS (a `tls://` address never falls back to plaintext); `tcp://` with a `tls` option is a
 * contradiction and throws InvalidArgumentError; otherwise null (plaintext). `what` names the
 * option in messages.
 */
export function resolveClientTls(
  address: ParsedAddress,
  tls: ClientTlsOptions | boolean | undefined,
  what = "tls",
): TlsConnectionOptions | null {
  if (tls !== undefined && typeof tls !== "boolean" && (tls === null || typeof tls !== "object")) {
    throw new InvalidArgumentError(`${what} must be an object ({ ca, cert, key, servername, rejectUnauthorized }) or a boolean`);
  }
  if (address.scheme === "tls" && tls === false) {
    throw new InvalidArgumentError(`${what} is false but the address asks for TLS (tls://); a tls:// address never falls back to plaintext`);
  }
  if (address.scheme === "tcp" && tls !== undefined && tls !== false) {
    throw new InvalidArgumentError(`${what} is set but the address asks for plaintext (tcp://); use tls://host:port or host:port`);
  }
  if (address.scheme !== "tls" && (tls === undefined || tls === false)) return null;
  const options: ClientTlsOptions = typeof tls === "object" ? tls : {};
  for (const key of Object.keys(options)) {
    if (!TLS_KEYS.has(key)) throw new InvalidArgumentError(`${what}.${key} is not a TLS option (ca, cert, key, servername, rejectUnauthorized)`);
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new InvalidArgumentError(`${what}.cert and ${what}.key go together: give both or neither`);
  }
  if (options.servername !== undefined && (typeof options.servername !== "string" || options.servername === "")) {
    throw new InvalidArgumentError(`${what}.servername must be a non-empty string`);
  }
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== "boolean") {
    throw new InvalidArgumentError(`${what}.rejectUnauthorized must be a boolean`);
  }
  const isIp = /^[\d.]+$/.test(address.host) || address.host.includes(":");
  return {
    ca: options.ca as TlsConnectionOptions["ca"],
    cert: options.cert as TlsConnectionOptions["cert"],
    key: options.key as TlsConnectionOptions["key"],
    // SNI carries host names only; an IP address is checked against the certificate's IP SANs
    servername: options.servername ?? (isIp ? undefined : address.host),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    minVersion: MIN_TLS_VERSION,
  };
}

/** Certificate verification failures Node reports by OpenSSL's name. */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

function isNodeTlsCode(error: Error): boolean {
  const code = String((error as NodeJS.ErrnoException).code ?? "");
  return CERTIFICATE_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code.startsWith("CERT_") || code === "ECONNRESET";
}

/**
 * What to tell a user whose TLS connection to `where` failed with `error`: what happened and what
 * to check, and Node's error (found under our own wrappers) to give as `cause`. Returns null when
 * `error` is not about TLS.
 */
export function explainTlsFailure(error: unknown, where: string): { message: string; cause: unknown } | null {
  // our own errors wrap Node's: look through them
  for (let depth = 0; depth < 4 && error instanceof Error && !isNodeTlsCode(error) && error.cause !== undefined; depth++) error = error.cause;
  const message = tlsMessage(error, where);
  return message === null ? null : { message, cause: error };
}

function tlsMessage(error: unknown, where: string): string | null {
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? "");
  const reason = `${code}${code === "" ? "" : ": "}${(error as Error | undefined)?.message ?? String(error)}`;
  if (CERTIFICATE_CODES.has(code)) {
    return `TLS: the certificate of ${where} did not verify (${reason}); check that the tls.ca option holds the CA that signed the server's certificate`;
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return `TLS: the certificate of ${where} is outside its validity period (${reason}); check the server's certificate dates and this machine's clock`;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `TLS: the certificate of ${where} does not name that host (${reason}); connect with a name the certificate carries, or set tls.servername`;
  }
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" || code === "ERR_SSL_RECORD_LAYER_FAILURE") {
    return `TLS: ${where} did not answer in TLS (${reason}); is it a plaintext port? Use host:port (or tcp://) for a plaintext server`;
  }
  if (/ALERT_(CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(code)) {
    return `TLS: ${where} refused this client's certificate (${reason}); check tls.cert and tls.key, and that the server's CA (--tls-ca) signed them`;
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return `TLS handshake with ${where} failed (${reason})`;
  if (code === "ECONNRESET" && /before secure TLS connection/.test(reason)) {
    return `TLS: ${where} closed the connection during the TLS handshake (${reason}); is it a plaintext port? A plaintext Switchyard broker closes TLS clients at once`;
  }
  return null;
}
