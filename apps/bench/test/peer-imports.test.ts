import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { benchDir } from "./run-bench.js";

/** Libraries of other systems that a peer imports only inside its own role (see peers/nats-responder.ts). */
const ROLE_ONLY_LIBRARIES = ["nats", "zeromq"];

describe("dist/peer.js", () => {
  it("loads no other system's client library at start: every role runs from this one bundle, and a stream peer's heap is measured", () => {
    const dist = path.join(benchDir, "dist");
    const peerFiles = readdirSync(dist).filter((name) => name === "peer.js" || name.startsWith("chunk-"));
    expect(peerFiles).toContain("peer.js");
    for (const name of peerFiles) {
      const staticImports = [...readFileSync(path.join(dist, name), "utf8").matchAll(/^import\b[^;]*?from\s+"([^"]+)"/gms)].map((match) => match[1]);
      for (const library of ROLE_ONLY_LIBRARIES) expect(staticImports, `${name} imports ${library} at the top`).not.toContain(library);
    }
  });
});
