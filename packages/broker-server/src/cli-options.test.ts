import { describe, expect, it } from "vitest";
import { parseCli, usage } from "./cli-options.js";
import { NUMERIC_OPTIONS } from "./options.js";

describe("parseCli", () => {
  it("gives every duration option (named without a unit, as the clients') a flag and a variable ending in its unit, ms", () => {
    const durations = Object.entries(NUMERIC_OPTIONS).filter(([, spec]) => spec.unit === "ms").map(([name]) => name);
    expect(durations.sort()).toEqual(["drainTimeout", "handshakeTimeout", "pingTimeout", "readTimeout", "registrationTimeout", "requestTimeout", "writeTimeout"]);
    const { options } = parseCli(["--drain-timeout-ms", "15000"], { SWITCHYARD_WRITE_TIMEOUT_MS: "2500" });
    expect(options).toEqual({ drainTimeout: 15_000, writeTimeout: 2500 });
    expect(() => parseCli(["--drain-timeout", "1"], {})).toThrow(/Unknown option '--drain-timeout'/);
    expect(usage()).toMatch(/--read-timeout-ms <n> +close a connection silent this long .*\[SWITCHYARD_READ_TIMEOUT_MS\]/);
  });

  it("maps every numeric option to a kebab-case flag", () => {
    const { options } = parseCli(["--port", "1234", "--max-queued-requests", "10", "--request-timeout-ms", "250"], {});
    expect(options).toEqual({ port: 1234, maxQueuedRequests: 10, requestTimeout: 250 });
  });

  it("reads SWITCHYARD_* variables, and flags win over them", () => {
    const env = { SWITCHYARD_PORT: "7000", SWITCHYARD_HOST: "0.0.0.0", SWITCHYARD_MAX_WRITE_QUEUE_FRAMES: "99", SWITCHYARD_LOG_LEVEL: "debug" };
    const settings = parseCli(["--port", "8000"], env);
    expect(settings.options).toEqual({ port: 8000, host: "0.0.0.0", maxWriteQueueFrames: 99 });
    expect(settings.logLevel).toBe("debug");
  });

  it("takes repeated --auth-token flags, or a comma list from SWITCHYARD_AUTH_TOKENS", () => {
    expect(parseCli(["--auth-token", "a", "--auth-token", "b"], { SWITCHYARD_AUTH_TOKENS: "x" }).options.authTokens).toEqual(["a", "b"]);
    expect(parseCli([], { SWITCHYARD_AUTH_TOKENS: "x, y" }).options.authTokens).toEqual(["x", "y"]);
  });

  it("defaults to log level info, no help and no version", () => {
    expect(parseCli([], {})).toEqual({ help: false, version: false, logLevel: "info", options: {}, files: {} });
    expect(parseCli(["-h"], {}).help).toBe(true);
    expect(parseCli(["--version"], {}).version).toBe(true);
  });

  it("refuses bad values naming the flag or the variable", () => {
    expect(() => parseCli(["--port", "70000"], {})).toThrow(/--port/);
    expect(() => parseCli(["--port", "-1"], {})).toThrow(/--port/);
    expect(() => parseCli([], { SWITCHYARD_MAX_PAYLOAD_BYTES: "9999999" })).toThrow(/SWITCHYARD_MAX_PAYLOAD_BYTES/);
    expect(() => parseCli(["--log-level", "loud"], {})).toThrow(/--log-level/);
    expect(() => parseCli(["--no-such-flag"], {})).toThrow(expect.objectContaining({ code: "USAGE" }));
    expect(() => parseCli(["--server-id", "notauuid"], {})).toThrow(expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/^--server-id must be a UUID/) }));
    expect(() => parseCli(["--host", " "], {})).toThrow(expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/^--host /) }));
  });

  it("takes the TLS, ACL and token files from flags or SWITCHYARD_TLS_* / SWITCHYARD_ACL / SWITCHYARD_AUTH_TOKEN_FILE", () => {
    const flags = ["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem", "--tls-client-auth", "require", "--acl", "acl.yaml"];
    expect(parseCli(flags, {}).files).toEqual({ tlsCert: "c.pem", tlsKey: "k.pem", tlsCa: "ca.pem", tlsClientAuth: "require", acl: "acl.yaml" });
    const env = { SWITCHYARD_TLS_CERT: "c", SWITCHYARD_TLS_KEY: "k", SWITCHYARD_AUTH_TOKEN_FILE: "tokens", SWITCHYARD_TLS_CLIENT_AUTH: "none" };
    expect(parseCli(["--tls-cert", "flag.pem"], env).files).toEqual({ tlsCert: "flag.pem", tlsKey: "k", authTokenFile: "tokens", tlsClientAuth: "none" });
  });

  it("refuses TLS flags that cannot work together, naming them", () => {
    expect(() => parseCli(["--tls-key", "k.pem"], {})).toThrow("--tls-cert and --tls-key go together");
    expect(() => parseCli(["--tls-ca", "ca.pem"], {})).toThrow("--tls-ca and --tls-client-auth need --tls-cert and --tls-key");
    expect(() => parseCli(["--tls-cert", "c", "--tls-key", "k", "--tls-client-auth", "require"], {})).toThrow("--tls-client-auth require needs --tls-ca");
    expect(() => parseCli(["--tls-cert", "c", "--tls-key", "k", "--tls-client-auth", "always"], {})).toThrow(
      expect.objectContaining({ code: "USAGE", message: '--tls-client-auth must be one of none, request, require, got "always"' }),
    );
  });

  it("documents every numeric option in the usage text", () => {
    const text = usage();
    for (const spec of Object.values(NUMERIC_OPTIONS)) expect(text).toContain(spec.help);
  });
});
