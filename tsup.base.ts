import type { Options } from "tsup";

/** The one build every publishable package shares: ESM + CJS + .d.ts for Node 20. */
export function packageBuild(entry: string[] = ["src/index.ts"]): Options {
  return {
    entry,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
  };
}
