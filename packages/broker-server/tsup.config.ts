import { copyFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";
import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base";

/**
 * The status page (src/status-page) goes to dist/status-page: its script bundled with uPlot for
 * browsers, its stylesheet (uPlot's included), and the HTML. The monitor serves these files from
 * memory; the published package carries them, so nothing is fetched from a CDN.
 */
async function buildStatusPage(): Promise<void> {
  const out = "dist/status-page";
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { "status-page": "src/status-page/app.ts" },
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    outdir: out,
    logLevel: "warning",
  });
  copyFileSync("src/status-page/index.html", `${out}/index.html`);
}

export default defineConfig({
  ...packageBuild(["src/index.ts", "src/cli.ts"]),
  shims: true,
  onSuccess: buildStatusPage,
});
