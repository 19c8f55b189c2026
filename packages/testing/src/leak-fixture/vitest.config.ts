import { defineConfig } from "vitest/config";

// Only for cleanup.test.ts: runs the leaky fixture on its own.
export default defineConfig({ test: { include: ["leaky.fixture.ts"], testTimeout: 10_000 } });
