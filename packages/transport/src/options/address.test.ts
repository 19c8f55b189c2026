import { InvalidArgumentError } from "@switchyard/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveClientTls } from "../tls/client-tls.js";
import { formatHostPort, parseAddress } from "./address.js";

describe("parseAddress", () => {
  it("reads host:port, [ipv6]:port and bare ipv6:port without a scheme", () => {
    expect(parseAddress("127.0.0.1:9090")).toEqual({ host: "127.0.0.1", port: 9090, scheme: null });
    expect(parseAddress("broker.local:1")).toEqual({ host: "broker.local", port: 1, scheme: null });
    expect(parseAddress("[::1]:9090")).toEqual({ host: "::1", port: 9090, scheme: null });
    expect(parseAddress("::1:9090")).toEqual({ host: "::1", port: 9090, scheme: null });
  });

  it("reads tcp:// and tls:// (any case) as the scheme, not as the host", () => {
    expect(parseAddress("tcp://127.0.0.1:9090")).toEqual({ host: "127.0.0.1", port: 9090, scheme: "tcp" });
    expect(parseAddress("tls://broker.local:443")).toEqual({ host: "broker.local", port: 443, scheme: "tls" });
    expect(parseAddress("TLS://[::1]:9090")).toEqual({ host: "::1", port: 9090, scheme: "tls" });
  });

  it.each([
    "9090",
    ":9090",
    "host:",
    "host:0",
    "host:65536",
    "host:90a",
    "host:-1",
    "http://host:80",
    "tcp://host",
    "tls://:9090",
    "tcp://host:9090/path",
    "tls://user@host:9090",
    "tls://::1:9090",
    "[::1:9090",
    "tcp:/host:9090",
    "",
  ])("refuses %j with INVALID_ARGUMENT naming it and the accepted forms", (address) => {
    let thrown: unknown;
    try {
      parseAddress(address, "broker address");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
    expect((thrown as Error).message).toContain(`broker address ${JSON.stringify(address)}`);
    expect((thrown as Error).message).toContain('"tls://host:port"');
  });

  it("reads back every host:port it formats, with and without a scheme", () => {
    const host = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.domain(),
    );
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65_535 }), fc.constantFrom("", "tcp://", "tls://"), (h, port, prefix) => {
        const parsed = parseAddress(prefix + formatHostPort({ host: h, port }));
        expect(parsed).toEqual({ host: h, port, scheme: prefix === "" ? null : prefix.slice(0, 3) });
      }),
    );
  });

  it("never throws anything but INVALID_ARGUMENT, whatever the string", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const { port } = parseAddress(text);
          expect(port).toBeGreaterThanOrEqual(1);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
        }
      }),
    );
  });
});

describe("resolveClientTls", () => {
  const plain = parseAddress("127.0.0.1:9090");
  it("a tls:// address means TLS, verified, TLS 1.2 at least, even with no tls option", () => {
    expect(resolveClientTls(parseAddress("tls://127.0.0.1:9090"), undefined)).toMatchObject({ rejectUnauthorized: true, minVersion: "TLSv1.2" });
  });

  it("host:port is plaintext unless the tls option asks for TLS", () => {
    expect(resolveClientTls(plain, undefined)).toBeNull();
    expect(resolveClientTls(plain, true)).toMatchObject({ rejectUnauthorized: true });
    expect(resolveClientTls(parseAddress("broker.local:1"), { ca: "x" })).toMatchObject({ ca: "x", servername: "broker.local" });
  });

  it("refuses contradictions and half a key pair with INVALID_ARGUMENT", () => {
    expect(() => resolveClientTls(parseAddress("tls://127.0.0.1:9090"), false)).toThrow(/never falls back to plaintext/);
    expect(() => resolveClientTls(parseAddress("tcp://127.0.0.1:9090"), {})).toThrow(InvalidArgumentError);
    expect(() => resolveClientTls(plain, { cert: "c" })).toThrow(/cert and tls.key go together/);
    expect(() => resolveClientTls(plain, { cafile: "x" } as never)).toThrow(/tls.cafile is not a TLS option/);
  });
});
