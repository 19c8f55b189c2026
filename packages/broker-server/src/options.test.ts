import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_QUEUED_REQUESTS, NUMERIC_OPTIONS, resolveBrokerServerOptions } from "./options.js";

describe("resolveBrokerServerOptions", () => {
  it("fills every default from the DEFAULT_* constants", () => {
    const resolved = resolveBrokerServerOptions();
    expect(resolved).toMatchObject({ port: 9090, host: "127.0.0.1", maxQueuedRequests: DEFAULT_MAX_QUEUED_REQUESTS, maxPayloadBytes: 1_048_576 });
    expect(resolved.maxWriteQueueFrames).toBe(8192);
    expect(resolved.maxWriteQueueErrorFrames).toBe(2048);
    expect(resolved.maxRequestBytes).toBe(64 * 1024 * 1024);
    expect(resolved.requestTimeout).toBe(5000);
    expect(resolved.readTimeout).toBe(120_000);
    expect(resolved.writeTimeout).toBe(5000);
    expect(resolved.serverId).toHaveLength(16);
    expect(resolved.authTokens).toEqual([]);
  });

  it("refuses every numeric option out of its range, naming it", () => {
    for (const [name, spec] of Object.entries(NUMERIC_OPTIONS)) {
      expect(() => resolveBrokerServerOptions({ [name]: spec.min - 1 })).toThrow(name);
      expect(() => resolveBrokerServerOptions({ [name]: spec.max + 1 })).toThrow(name);
      expect(() => resolveBrokerServerOptions({ [name]: "12" as unknown as number })).toThrow(name);
    }
  });

  it("refuses empty auth tokens and an empty host", () => {
    expect(() => resolveBrokerServerOptions({ authTokens: [""] })).toThrow(/authTokens/);
    expect(() => resolveBrokerServerOptions({ host: "" })).toThrow(/host/);
  });
});
