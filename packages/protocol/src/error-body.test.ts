import { describe, expect, it } from "vitest";
import { BrokerError, decodeErrorBody, encodeErrorBody, ProtocolError, WIRE_ERROR_CODES, wireErrorName } from "./index.js";

/** docs/protocol.md §1.11 "Errors", copied by hand: the numbers are the wire. */
const PROTOCOL_TABLE: [number, string][] = [
  [1, "PROTOCOL_ERROR"],
  [2, "NO_PROVIDER"],
  [3, "TIMEOUT"],
  [4, "PROVIDER_GONE"],
  [5, "OVERLOADED"],
  [6, "UNAUTHORIZED"],
  [7, "HANDLER_ERROR"],
  [8, "PAYLOAD_TOO_LARGE"],
  [9, "CANCELLED"],
  [10, "NOT_REGISTERED"],
  [11, "DUPLICATE_CLIENT"],
  [12, "SHUTTING_DOWN"],
  [13, "BAD_ROUTE"],
  [14, "BAD_REGISTRATION"],
  [15, "FORBIDDEN"],
  [16, "BAD_HEADERS"],
  [17, "NOT_SUPPORTED"],
  [18, "FLOW_CONTROL_ERROR"],
];

/** An error body built by hand: code u16, then the message. */
function body(code: number, message: string): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, Buffer.from(message, "utf8")]);
}

describe("error bodies", () => {
  it("the exported table is exactly docs/protocol.md's", () => {
    expect(Object.entries(WIRE_ERROR_CODES).map(([name, code]) => [code, name])).toEqual(PROTOCOL_TABLE);
  });

  it.each(PROTOCOL_TABLE)("code %d decodes to a BrokerError named %s, message kept", (code, name) => {
    const error = decodeErrorBody(body(code, `why ${code}`));
    expect(error).toBeInstanceOf(BrokerError);
    expect([error.code, error.wireCode, error.message]).toEqual([name, code, `why ${code}`]);
    expect(wireErrorName(code)).toBe(name);
  });

  it.each([0, 19, 0xffff])("unknown code %d decodes to UNKNOWN_ERROR carrying that wireCode", (code) => {
    const error = decodeErrorBody(body(code, "from a newer peer"));
    expect([error.code, error.wireCode, error.message]).toEqual(["UNKNOWN_ERROR", code, "from a newer peer"]);
    expect(wireErrorName(code)).toBeUndefined();
  });

  it("gives an unknown code with an empty message a message that names the code", () => {
    expect(decodeErrorBody(body(99, "")).message).toContain("99");
  });

  it("round-trips a UTF-8 message and an empty one", () => {
    for (const message of ["délai dépassé ✓", ""]) {
      const decoded = decodeErrorBody(encodeErrorBody(new BrokerError("TIMEOUT", message)));
      expect([decoded.code, decoded.message]).toEqual(["TIMEOUT", message]);
    }
  });

  it.each([0, 1])("refuses a %d-byte body with ProtocolError(PROTOCOL_ERROR)", (size) => {
    expect(() => decodeErrorBody(Buffer.alloc(size))).toThrow(ProtocolError);
    expect(() => decodeErrorBody(Buffer.alloc(size))).toThrow(expect.objectContaining({ code: "PROTOCOL_ERROR", wireCode: 1 }));
  });
});
