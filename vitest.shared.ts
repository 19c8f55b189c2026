import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Tests import sibling packages from their sources, so a test run needs no prior build and
 * always sees the code beside it. (Typecheck and the CLI-spawning tests use the built dist.)
 */
const sourceAliases = readdirSync(path.join(root, "packages")).flatMap((dir) => [
  // A subpath entry first: "@switchyard/transport/internal" is packages/transport/src/internal.ts.
  { find: new RegExp(`^@switchyard/${dir}/internal$`), replacement: path.join(root, "packages", dir, "src", "internal.ts") },
  { find: new RegExp(`^@switchyard/${dir}$`), replacement: path.join(root, "packages", dir, "src", "index.ts") },
]);

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
