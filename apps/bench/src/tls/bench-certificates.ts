import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BenchTls } from "../systems/system.js";

/**
 * Makes a CA and a server certificate for 127.0.0.1 for one `--tls` run, with the repository's
 * scripts/make-certificates.sh (openssl), in a new temporary directory; `remove()` deletes it.
 */
export function makeBenchCertificates(repoRoot: string): BenchTls & { remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "switchyard-bench-tls-"));
  execFileSync("sh", [path.join(repoRoot, "scripts", "make-certificates.sh"), dir], { stdio: ["ignore", "ignore", "inherit"] });
  return {
    caFile: path.join(dir, "ca.pem"),
    certFile: path.join(dir, "server.pem"),
    keyFile: path.join(dir, "server-key.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
