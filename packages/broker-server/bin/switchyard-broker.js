#!/usr/bin/env node
// Committed shim so the bin link exists before the first build; the CLI itself is built to dist.
import("../dist/cli.js");
