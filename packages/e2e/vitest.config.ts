import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// One file at a time: these tests load both cores on their own (child processes, 20 MiB bodies,
// thousands of requests), and the chaos test's deadline bound should not measure a neighbour's load.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/global-setup.ts"], fileParallelism: false } }));
