import { describe, expect, it } from "vitest";
import { samePrincipal } from "./admission.js";

const digest = (byte: number) => Buffer.alloc(32, byte);
const cert = (commonName: string, altNames: string[] = []) => ({ commonName, altNames });

describe("samePrincipal", () => {
  it("is the same token (or none on both sides) and the same certificate subject (or none on both sides)", () => {
    expect(samePrincipal({ tokenDigest: null, identity: null }, { tokenDigest: null, identity: null })).toBe(true);
    expect(samePrincipal({ tokenDigest: digest(1), identity: null }, { tokenDigest: digest(1), identity: null })).toBe(true);
    expect(samePrincipal({ tokenDigest: digest(1), identity: null }, { tokenDigest: digest(2), identity: null })).toBe(false);
    expect(samePrincipal({ tokenDigest: digest(1), identity: null }, { tokenDigest: null, identity: null })).toBe(false);
    expect(samePrincipal({ tokenDigest: null, identity: cert("svc", ["DNS:a"]) }, { tokenDigest: null, identity: cert("svc", ["DNS:a"]) })).toBe(true);
    expect(samePrincipal({ tokenDigest: null, identity: cert("svc", ["DNS:a"]) }, { tokenDigest: null, identity: cert("svc", ["DNS:b"]) })).toBe(false);
    expect(samePrincipal({ tokenDigest: null, identity: cert("svc") }, { tokenDigest: null, identity: cert("other") })).toBe(false);
    expect(samePrincipal({ tokenDigest: null, identity: cert("svc") }, { tokenDigest: null, identity: null })).toBe(false);
  });
});
