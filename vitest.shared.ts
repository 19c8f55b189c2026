import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Tests import sibling packages from their sources, so a test run needs no prior build and
 * always sees the code beside it. (Typecheck and the CLI-spawning tests use the built dist.)
 */
const sourceAliases = Object.fromEntries(
  readdirSync(path.join(root, "packages")).map((dir) => [`@switchyard/${dir}`, path.join(root, "packages", dir, "src", "index.ts")]),
);

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
