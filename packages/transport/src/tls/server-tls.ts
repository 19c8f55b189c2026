import { X509Certificate } from "node:crypto";
import { createSecureContext, type PeerCertificate, type SecureContextOptions, TLSSocket } from "node:tls";
import { InvalidArgumentError } from "@switchyard/protocol";
import { MIN_TLS_VERSION, type Pem } from "./client-tls.js";

/** Whether a TLS server asks clients for a certificate. */
export type ClientAuth = "none" | "request" | "require";

/** The values ClientAuth may take, in the order help texts list them. */
export const CLIENT_AUTH_MODES: readonly ClientAuth[] = ["none", "request", "require"];

/** Default ms a server's new TLS connection has to finish its handshake (the broker: also to send its first byte): 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** TLS settings of a server (the broker, an anet server). */
export interface ServerTlsOptions {
  /** The server's certificate chain (PEM): its own certificate first. Required. */
  cert: Pem;
  /** The private key of `cert` (PEM). Required. */
  key: Pem;
  /** CA certificate(s) that client certificates must chain to (PEM). Needed for clientAuth request/require. */
  ca?: Pem;
  /**
   * Client certificates: `"none"` (not asked for), `"request"` (asked for; a client without one is
   * let in, one with a certificate that does not verify is refused), `"require"` (a client without
   * a verified certificate fails the handshake). Default "none".
   */
  clientAuth?: ClientAuth;
}

/** ServerTlsOptions checked, with what node:tls needs. */
export interface ResolvedServerTls {
  /** For tls.createServer / setSecureContext: cert, key, ca, TLS 1.2 at least. */
  context: SecureContextOptions;
  clientAuth: ClientAuth;
  /** tls.createServer's requestCert and rejectUnauthorized for `clientAuth`. */
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** When the server's certificate expires. */
  validTo: Date;
  /** The server certificate's subject, one line (e.g. "CN=switchyard-broker"). */
  subject: string;
}

function isPem(value: unknown): value is Pem {
  const one = (item: unknown) => typeof item === "string" || Buffer.isBuffer(item);
  return one(value) || (Array.isArray(value) && value.length > 0 && value.every(one));
}

/**
 * Checks ServerTlsOptions — the PEM parses, the key matches the certificate, clientAuth is known
 * and has a CA — and returns what node:tls needs. Throws InvalidArgumentError naming `what`
 * (e.g. "tls") with Node's error as `cause`.
 */
export function resolveServerTls(options: ServerTlsOptions, what = "tls"): ResolvedServerTls {
  if (options === null || typeof options !== "object") throw new InvalidArgumentError(`${what} must be an object { cert, key, ca, clientAuth }`);
  if (!isPem(options.cert)) throw new InvalidArgumentError(`${what}.cert must be the server's certificate as PEM (a string or Buffer)`);
  if (!isPem(options.key)) throw new InvalidArgumentError(`${what}.key must be the private key as PEM (a string or Buffer)`);
  if (options.ca !== undefined && !isPem(options.ca)) throw new InvalidArgumentError(`${what}.ca must be CA certificates as PEM (a string or Buffer)`);
  const clientAuth = options.clientAuth ?? "none";
  if (!CLIENT_AUTH_MODES.includes(clientAuth)) {
    throw new InvalidArgumentError(`${what}.clientAuth must be one of ${CLIENT_AUTH_MODES.join(", ")}, got ${JSON.stringify(clientAuth)}`);
  }
  if (clientAuth !== "none" && options.ca === undefined) {
    throw new InvalidArgumentError(`${what}.clientAuth "${clientAuth}" needs ${what}.ca: the CA that signs client certificates`);
  }
  const context: SecureContextOptions = {
    cert: options.cert as SecureContextOptions["cert"],
    key: options.key as SecureContextOptions["key"],
    ca: options.ca as SecureContextOptions["ca"],
    minVersion: MIN_TLS_VERSION,
  };
  let certificate: X509Certificate;
  try {
    createSecureContext(context); // parses the PEM and checks that the key matches the certificate
    const first = Array.isArray(options.cert) ? options.cert[0] : options.cert;
    certificate = new X509Certificate(first as string | Buffer);
  } catch (error) {
    throw new InvalidArgumentError(`${what}: the certificate or key cannot be used: ${(error as Error).message}`, { cause: error });
  }
  return {
    context,
    clientAuth,
    requestCert: clientAuth !== "none",
    rejectUnauthorized: clientAuth === "require",
    validTo: new Date(certificate.validTo),
    subject: certificate.subject.replaceAll("\n", ", "),
  };
}

/** Who a client's verified certificate says it is. */
export interface CertificateIdentity {
  /** The subject's common name, or "" when it has none. */
  commonName: string;
  /** Subject alternative names as "DNS:x", "IP:x", "URI:x", "email:x". */
  altNames: string[];
}

/**
 * The identity of a TLS socket's client certificate once it verified against the server's CA;
 * null for a plaintext socket or a client without a certificate. `problem` is set when the client
 * presented a certificate that did not verify (clientAuth "request" lets the handshake finish).
 */
export function peerIdentity(socket: unknown): { identity: CertificateIdentity | null; problem: string | null } {
  if (!(socket instanceof TLSSocket)) return { identity: null, problem: null };
  const certificate: PeerCertificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return { identity: null, problem: null };
  if (!socket.authorized) return { identity: null, problem: `the client certificate did not verify: ${String(socket.authorizationError)}` };
  const commonName = certificate.subject?.CN;
  const altNames = (certificate.subjectaltname ?? "")
    .split(", ")
    .filter((name) => name !== "")
    .map((name) => name.replace(/^IP Address:/, "IP:"));
  return { identity: { commonName: Array.isArray(commonName) ? (commonName[0] ?? "") : (commonName ?? ""), altNames }, problem: null };
}
