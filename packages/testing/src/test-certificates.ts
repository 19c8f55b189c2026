import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../../scripts/make-certificates.sh", import.meta.url));

/** A key pair as PEM files and their contents. */
export interface KeyPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** What make-certificates.sh made in one directory: a CA, a server pair and client pairs by name. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  ca: Buffer;
  server: KeyPair;
  clients: Record<string, KeyPair>;
  /** Makes a new server certificate from the same CA (a rotation); returns the new pair. */
  renewServer(): KeyPair;
  /** Deletes the directory. */
  remove(): void;
}

function pair(dir: string, name: string): KeyPair {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/**
 * Real certificates for tests, made now with the repository's scripts/make-certificates.sh (openssl) in a new
 * temporary directory: a CA, a server certificate for localhost/127.0.0.1/::1 and a client
 * certificate with CN=name for each of `clientNames`. Each call makes a new CA.
 */
export function makeTestCertificates(...clientNames: string[]): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), "switchyard-certs-"));
  const make = (names: string[]) => execFileSync("sh", [SCRIPT, dir, ...names], { stdio: ["ignore", "ignore", "inherit"] });
  make(clientNames);
  const caFile = path.join(dir, "ca.pem");
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    server: pair(dir, "server"),
    clients: Object.fromEntries(clientNames.map((name) => [name, pair(dir, `client-${name}`)])),
    renewServer() {
      make([]);
      return pair(dir, "server");
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
