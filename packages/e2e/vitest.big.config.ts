import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// `pnpm --filter @switchyard/e2e test:big`: the 4 GiB round trip of issue 14 (test-big/), on its
// own because it keeps the machine's cores busy for a while: `test` stays quick, and the root
// `pnpm test` runs this after it (turbo's test:big task).
const config = mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/global-setup.ts"], fileParallelism: false } }));
// mergeConfig would add to the shared include list; this run is test-big/ alone
config.test!.include = ["test-big/**/*.test.ts"];
export default config;
