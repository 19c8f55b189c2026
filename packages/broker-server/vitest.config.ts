import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The CLI tests spawn the built bin: the global setup builds the package when dist is stale.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/global-setup.ts"] } }));
