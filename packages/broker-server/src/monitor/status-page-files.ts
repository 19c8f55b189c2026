import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { StaticFiles } from "./monitor-server.js";

/**
 * The page's policy: its own script and stylesheet only, requests only to this monitor, no
 * framing, no inline script or style elements (uPlot styles through the CSSOM, which this allows).
 */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES: ReadonlyArray<[route: string, file: string, type: string]> = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/status-page.js", "status-page.js", "text/javascript; charset=utf-8"],
  ["/status-page.css", "status-page.css", "text/css; charset=utf-8"],
];

/**
 * Where the built page is: dist/status-page beside the built module, or — when running from the
 * sources (tests) — the package's dist/status-page. Null when it was never built.
 */
function statusPageDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, "status-page"), path.join(here, "..", "..", "dist", "status-page")]) {
    if (existsSync(path.join(dir, "index.html"))) return dir;
  }
  return null;
}

/**
 * The status page's files, read once into memory with their headers. Without a build (sources
 * never built) `/` answers 503 saying so; the JSON endpoints are unaffected.
 */
export function loadStatusPage(): StaticFiles {
  const dir = statusPageDir();
  const headers = { "content-security-policy": STATUS_PAGE_CSP, "x-frame-options": "DENY", "referrer-policy": "no-referrer" };
  if (dir === null) {
    const missing = { status: 503, type: "text/plain; charset=utf-8", body: "the status page was not built (pnpm build in packages/broker-server)\n", headers };
    return new Map(FILES.map(([route]) => [route, missing]));
  }
  return new Map(FILES.map(([route, file, type]) => [route, { status: 200, type, body: readFileSync(path.join(dir, file)), headers }]));
}
