import { createHash } from "node:crypto";
import { InvalidArgumentError, Role } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { AccessList, tokenDigest } from "./access-list.js";

const A = "7f1c2a9e-5b1d-4a8e-9c53-0b6b3f2d9e41";
const B = "0b6b3f2d-9e41-4a8e-9c53-7f1c2a9e5b1d";
const hex = (token: string) => createHash("sha256").update(token).digest("hex");
const token = (text: string) => ({ tokenDigest: tokenDigest(text), identity: null });
const cert = (commonName: string, altNames: string[] = []) => ({ tokenDigest: null, identity: { commonName, altNames } });

const acl = AccessList.from({
  principals: [
    { name: "api", tokenSha256: hex("api-token"), consume: [A] },
    { name: "worker", certSubject: "CN=worker", provide: [A.toUpperCase(), B] },
    { name: "spiffe", certSubject: "URI:spiffe://example/worker", provide: [B] },
    { name: "ops", tokenSha256: hex("ops-token"), provide: ["*"], consume: ["*"], denyProvide: [B] },
    { name: "both", tokenSha256: hex("both-token"), certSubject: "CN=both", consume: [B] },
  ],
});

describe("AccessList", () => {
  it("allows a token principal what its lists name, case-insensitively, and nothing else", () => {
    expect(acl.decide(token("api-token"), Role.CONSUMER, A)).toEqual({ allowed: true, principals: ["api"] });
    expect(acl.decide(token("api-token"), Role.PROVIDER, A)).toMatchObject({ allowed: false, code: "FORBIDDEN", message: `registration refused: principal "api" may not provide on channel ${A}` });
    expect(acl.decide(token("api-token"), Role.CONSUMER, B)).toMatchObject({ allowed: false, code: "FORBIDDEN" });
  });

  it("matches certificates by CN or by a subject alternative name", () => {
    expect(acl.decide(cert("worker"), Role.PROVIDER, A)).toMatchObject({ allowed: true });
    expect(acl.decide(cert("someone", ["URI:spiffe://example/worker"]), Role.PROVIDER, B)).toMatchObject({ allowed: true, principals: ["spiffe"] });
    expect(acl.decide(cert("someone", ["URI:spiffe://example/worker"]), Role.PROVIDER, A)).toMatchObject({ allowed: false, code: "FORBIDDEN" });
  });

  it('"*" allows every channel, and a deny list wins over it', () => {
    expect(acl.decide(token("ops-token"), Role.CONSUMER, B)).toMatchObject({ allowed: true });
    expect(acl.decide(token("ops-token"), Role.PROVIDER, A)).toMatchObject({ allowed: true });
    expect(acl.decide(token("ops-token"), Role.PROVIDER, B)).toMatchObject({ allowed: false, code: "FORBIDDEN", message: expect.stringContaining("(denied)") });
  });

  it("a principal naming a token and a certificate needs both; nobody matched is UNAUTHORIZED, and the token is never in a message", () => {
    expect(acl.decide({ tokenDigest: tokenDigest("both-token"), identity: { commonName: "both", altNames: [] } }, Role.CONSUMER, B)).toMatchObject({ allowed: true });
    const tokenOnly = acl.decide(token("both-token"), Role.CONSUMER, B);
    expect(tokenOnly).toMatchObject({ allowed: false, code: "UNAUTHORIZED" });
    expect(JSON.stringify(tokenOnly)).not.toContain("both-token");
    expect(acl.decide({ tokenDigest: null, identity: null }, Role.CONSUMER, A)).toMatchObject({ code: "UNAUTHORIZED" });
    expect(acl.decide(token("wrong"), Role.CONSUMER, A)).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("a connection matching several principals has the union of their allows, minus every deny", () => {
    const twice = AccessList.from({
      principals: [
        { name: "by-token", tokenSha256: hex("t"), consume: [A] },
        { name: "by-cert", certSubject: "CN=c", consume: [B], denyConsume: [A] },
      ],
    });
    const both = { tokenDigest: tokenDigest("t"), identity: { commonName: "c", altNames: [] } };
    expect(twice.decide(both, Role.CONSUMER, B)).toMatchObject({ allowed: true, principals: ["by-token", "by-cert"] });
    expect(twice.decide(both, Role.CONSUMER, A)).toMatchObject({ allowed: false, message: expect.stringContaining('principal "by-token", "by-cert" may not consume') });
  });

  it.each([
    [null, 'the document must be an object with a "principals" list'],
    [{ principals: [{ tokenSha256: hex("x") }] }, "principals[0].name must be a non-empty string"],
    [{ principals: [{ name: "a", tokenSha256: "abc" }] }, "principals[0].tokenSha256 must be 64 hex digits"],
    [{ principals: [{ name: "a" }] }, "principals[0] names no tokenSha256 and no certSubject"],
    [{ principals: [{ name: "a", certSubject: "O=acme" }] }, 'principals[0].certSubject must be "CN=name"'],
    [{ principals: [{ name: "a", certSubject: "CN=a", provide: ["billing"] }] }, 'principals[0].provide[0] must be a channel UUID or "*", got "billing"'],
    [{ principals: [{ name: "a", certSubject: "CN=a", consume: A }] }, "principals[0].consume must be a list"],
    [{ principals: [{ name: "a", certSubject: "CN=a", allow: [A] }] }, "principals[0].allow is not a field"],
    [{ principals: [{ name: "a", certSubject: "CN=a" }, { name: "a", certSubject: "CN=b" }] }, 'principals[1].name "a" is used twice'],
  ])("refuses a document with a mistake, with INVALID_ARGUMENT naming the field (%#)", (document, message) => {
    expect(() => AccessList.from(document, "acl.json")).toThrow(InvalidArgumentError);
    expect(() => AccessList.from(document, "acl.json")).toThrow(`acl.json: ${message}`);
  });
});
