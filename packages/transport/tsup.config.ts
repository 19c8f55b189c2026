import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base";

// Two entries share one copy of every class (splitting, for CJS too): an error thrown by an
// internal module must be the class a user imports from the public entry.
export default defineConfig({ ...packageBuild(["src/index.ts", "src/internal.ts"]), splitting: true });
