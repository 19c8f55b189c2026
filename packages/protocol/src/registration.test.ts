import { describe, expect, it } from "vitest";
import {
  BrokerError,
  decodeRegistration,
  decodeRegistrationAck,
  encodeRegistration,
  encodeRegistrationAck,
  formatVersion,
  InvalidArgumentError,
  LATEST_VERSION,
  negotiateVersion,
  type Registration,
  Role,
  VERSION_1_0,
} from "./index.js";

const clientId = Buffer.from("a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8", "hex");
const channelId = Buffer.from("0f0e0d0c0b0a09080706050403020100", "hex");

/** The 37 fixed bytes of a consumer registration (role 1, timeout 1000 ms), then `extensions` (hex). */
function payload(extensions = "", role = "01"): Buffer {
  return Buffer.from(`${role}000003e8${clientId.toString("hex")}${channelId.toString("hex")}${extensions}`.replace(/\s+/g, ""), "hex");
}

const badRegistration = expect.objectContaining({ code: "BAD_REGISTRATION", wireCode: 14 });

describe("decodeRegistration", () => {
  it("reads the fixed fields of a registration without extensions", () => {
    expect(decodeRegistration(payload())).toEqual({ role: Role.CONSUMER, timeoutMs: 1000, clientId, channelId });
  });

  it("returns ids that do not alias the received bytes", () => {
    const bytes = payload();
    const registration = decodeRegistration(bytes);
    bytes.fill(0);
    expect([registration.clientId, registration.channelId]).toEqual([clientId, channelId]);
  });

  it.each([
    ["is empty", Buffer.alloc(0)],
    ["is one byte short of the fixed part", payload().subarray(0, 36)],
    ["has role 0", payload("", "00")],
    ["has role 3", payload("", "03")],
    ["ends inside an extension header", payload("0100")],
    ["has an extension whose length runs past the end", payload("010005 616263")],
    ["has a 2-byte capacity", payload("030002 0001")],
    ["has a 5-byte capacity", payload("030005 0000000001")],
    ["has a 1-byte protocol version", payload("040001 01")],
    ["has a 3-byte protocol version", payload("040003 010100")],
    ["announces protocol version 0.9", payload("040002 0009")],
    ["has a 2-byte stream window", payload("050002 0040")],
    ["announces a stream window under 1 MiB", payload("050004 000fffff")],
    ["announces a stream window over 2^31 - 1", payload("050004 80000000")],
  ])("refuses a payload that %s with BrokerError(BAD_REGISTRATION)", (_what, bytes) => {
    expect(() => decodeRegistration(bytes)).toThrow(BrokerError);
    expect(() => decodeRegistration(bytes)).toThrow(badRegistration);
  });

  it("skips extensions with unknown tags, whatever their length", () => {
    const registration = decodeRegistration(payload("000000 090003ffffff 020003737663 ff0001aa"));
    expect(registration).toEqual({ role: Role.CONSUMER, timeoutMs: 1000, clientId, channelId, clientName: "svc" });
  });

  it("reads empty auth token and client name extensions as empty strings", () => {
    const registration = decodeRegistration(payload("010000 020000"));
    expect([registration.authToken, registration.clientName]).toEqual(["", ""]);
  });
});

describe("encodeRegistration", () => {
  it("round-trips UTF-8 extensions and the largest capacity", () => {
    const registration: Registration = {
      role: Role.PROVIDER,
      timeoutMs: 0xffff_ffff,
      clientId,
      channelId,
      authToken: "jeton-é✓",
      clientName: "name with spaces",
      capacity: 0xffff_ffff,
    };
    expect(decodeRegistration(encodeRegistration(registration))).toEqual(registration);
  });

  it("writes the timeout as whole milliseconds on the wire", () => {
    const bytes = encodeRegistration({ role: Role.CONSUMER, timeoutMs: 1.2, clientId, channelId });
    expect(bytes.readUInt32BE(1)).toBe(2);
  });

  it("refuses ids that are not 16 bytes with InvalidArgumentError: the caller's mistake, not a bad registration", () => {
    expect(() => encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId: clientId.subarray(1), channelId })).toThrow(InvalidArgumentError);
    expect(() => encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId: Buffer.alloc(17) })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: "channelId must be 16 bytes, got 17" }),
    );
  });

  it("refuses an extension value longer than its u16 length field can say with InvalidArgumentError naming it", () => {
    const registration = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, authToken: "x".repeat(0x10000) };
    expect(() => encodeRegistration(registration)).toThrow(InvalidArgumentError);
    expect(() => encodeRegistration(registration)).toThrow(/^authToken of 65536 bytes/);
    expect(() => encodeRegistration({ ...registration, authToken: "x".repeat(0xffff) })).not.toThrow();
  });
});

describe("the protocol version extension", () => {
  it("round-trips the highest version a client speaks, and leaves it out when there is none", () => {
    const registration: Registration = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version: { major: 1, minor: 7 } };
    expect(decodeRegistration(encodeRegistration(registration))).toEqual(registration);
    expect(decodeRegistration(encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId })).version).toBeUndefined();
  });

  it("refuses a version that does not fit its two bytes with InvalidArgumentError", () => {
    for (const version of [{ major: 0, minor: 1 }, { major: 256, minor: 0 }, { major: 1, minor: -1 }, { major: 1, minor: 1.5 }]) {
      expect(() => encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version })).toThrow(InvalidArgumentError);
    }
  });

  it("is read from an ack behind its 21 fixed bytes, unknown extensions around it skipped", () => {
    const ack = decodeRegistrationAck(Buffer.from("01 00100000 fedcba9876543210fedcba9876543210 090001ff 04000201 01 ff0000".replace(/ /g, ""), "hex"));
    expect(ack).toMatchObject({ protocolVersion: 1, maxPayload: 1_048_576, version: { major: 1, minor: 1 } });
  });

  it("refuses an ack whose extension is truncated or whose version is not 2 bytes", () => {
    expect(() => decodeRegistrationAck(Buffer.from("0100100000fedcba9876543210fedcba9876543210 0400".replace(/ /g, ""), "hex"))).toThrow(badRegistration);
    expect(() => decodeRegistrationAck(Buffer.from("0100100000fedcba9876543210fedcba9876543210 04000101".replace(/ /g, ""), "hex"))).toThrow(badRegistration);
  });
});

describe("the stream window extension (1.1)", () => {
  it("round-trips the smallest and largest windows, in a registration and in an ack", () => {
    for (const streamWindow of [1_048_576, 0x7fff_ffff]) {
      const registration: Registration = { role: Role.PROVIDER, timeoutMs: 0, clientId, channelId, version: LATEST_VERSION, streamWindow };
      expect(decodeRegistration(encodeRegistration(registration))).toEqual(registration);
      const ack = { protocolVersion: 1, maxPayload: 1_048_576, serverId: clientId, version: LATEST_VERSION, streamWindow };
      expect(decodeRegistrationAck(encodeRegistrationAck(ack))).toEqual(ack);
    }
  });

  it("refuses to encode a window outside 1 MiB ..= 2^31 - 1 with InvalidArgumentError", () => {
    for (const streamWindow of [0, 1_048_575, 2 ** 31, 1.5e6 + 0.5]) {
      expect(() => encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, streamWindow })).toThrow(InvalidArgumentError);
    }
  });

  it("refuses an ack whose stream window is not 4 bytes or under 1 MiB with BrokerError(BAD_REGISTRATION)", () => {
    const fixed = "0100100000fedcba9876543210fedcba9876543210 04000201 01";
    expect(() => decodeRegistrationAck(Buffer.from(`${fixed} 050003 400000`.replace(/ /g, ""), "hex"))).toThrow(badRegistration);
    expect(() => decodeRegistrationAck(Buffer.from(`${fixed} 050004 00000400`.replace(/ /g, ""), "hex"))).toThrow(badRegistration);
  });
});

describe("negotiateVersion", () => {
  it("picks the older of two versions, comparing major before minor", () => {
    expect(negotiateVersion({ major: 1, minor: 1 }, { major: 1, minor: 0 })).toEqual({ major: 1, minor: 0 });
    expect(negotiateVersion({ major: 1, minor: 9 }, { major: 1, minor: 1 })).toEqual({ major: 1, minor: 1 });
    expect(negotiateVersion({ major: 2, minor: 0 }, { major: 1, minor: 1 })).toEqual({ major: 1, minor: 1 });
    expect(negotiateVersion(LATEST_VERSION, VERSION_1_0)).toBe(VERSION_1_0);
    expect(formatVersion(LATEST_VERSION)).toBe("1.1");
  });
});

describe("decodeRegistrationAck", () => {
  it("refuses an ack shorter than its 21 bytes with BrokerError(BAD_REGISTRATION)", () => {
    const ack = Buffer.from("01 00100000 fedcba9876543210fedcba98765432".replace(/ /g, ""), "hex");
    expect(ack).toHaveLength(20);
    expect(() => decodeRegistrationAck(ack)).toThrow(badRegistration);
  });
});
