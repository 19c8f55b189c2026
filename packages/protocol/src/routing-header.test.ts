import { describe, expect, it } from "vitest";
import { decodeRoutingHeader, encodeRoutingHeader, InvalidArgumentError, ProtocolError, ROUTING_HEADER_SIZE } from "./index.js";

const protocolError = expect.objectContaining({ code: "PROTOCOL_ERROR", wireCode: 1 });

describe("routing header", () => {
  it("splits a payload into views of the ids and of what follows", () => {
    const payload = Buffer.alloc(ROUTING_HEADER_SIZE + 3, 9);
    payload.fill(1, 0, 16);
    const decoded = decodeRoutingHeader(payload);
    expect([decoded.clientId, decoded.channelId, decoded.rest]).toEqual([Buffer.alloc(16, 1), Buffer.alloc(16, 9), Buffer.alloc(3, 9)]);
    expect(decoded.rest.buffer).toBe(payload.buffer);
  });

  it("accepts a payload that is exactly the routing header, with nothing after it", () => {
    expect(decodeRoutingHeader(Buffer.alloc(ROUTING_HEADER_SIZE)).rest).toHaveLength(0);
  });

  it.each([0, 16, ROUTING_HEADER_SIZE - 1])("refuses a %d-byte payload with ProtocolError(PROTOCOL_ERROR)", (size) => {
    expect(() => decodeRoutingHeader(Buffer.alloc(size))).toThrow(ProtocolError);
    expect(() => decodeRoutingHeader(Buffer.alloc(size))).toThrow(protocolError);
  });

  it("refuses to encode ids that are not 16 bytes with InvalidArgumentError (the caller's mistake, not the peer's)", () => {
    expect(() => encodeRoutingHeader(Buffer.alloc(15), Buffer.alloc(16))).toThrow(InvalidArgumentError);
    expect(() => encodeRoutingHeader(Buffer.alloc(16), Buffer.alloc(17))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
