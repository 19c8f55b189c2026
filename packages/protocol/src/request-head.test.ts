import { describe, expect, it } from "vitest";
import { clampTimeout, decodeRequestHead, encodeRequestHead, MAX_TIMEOUT_MS, ProtocolError, REQUEST_HEAD_SIZE } from "./index.js";

describe("request head", () => {
  it("reads a head with no body as an empty body", () => {
    expect(decodeRequestHead(Buffer.from("000003e8", "hex"))).toEqual({ timeoutMs: 1000, body: Buffer.alloc(0) });
  });

  it.each([0, 1, REQUEST_HEAD_SIZE - 1])("refuses a %d-byte payload with ProtocolError(PROTOCOL_ERROR)", (size) => {
    expect(() => decodeRequestHead(Buffer.alloc(size))).toThrow(ProtocolError);
    expect(() => decodeRequestHead(Buffer.alloc(size))).toThrow(expect.objectContaining({ code: "PROTOCOL_ERROR", wireCode: 1 }));
  });

  it.each([
    [0, 0],
    [-5, 0],
    [Number.NaN, 0],
    [0.2, 1],
    [1500, 1500],
    [MAX_TIMEOUT_MS, MAX_TIMEOUT_MS],
    [MAX_TIMEOUT_MS + 10, MAX_TIMEOUT_MS],
    [Number.POSITIVE_INFINITY, MAX_TIMEOUT_MS],
  ])("writes a timeout of %d ms as %d on the wire", (timeoutMs, wire) => {
    expect(clampTimeout(timeoutMs)).toBe(wire);
    expect(encodeRequestHead(timeoutMs).readUInt32BE(0)).toBe(wire);
  });
});
