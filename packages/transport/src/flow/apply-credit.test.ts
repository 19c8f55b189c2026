import { encodeCredit } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import type { BodyStream } from "../body/body-sender.js";
import { applyCredit } from "./apply-credit.js";

/** A BodyStream that records its grants and refuses any that would take it past `room`. */
function stream(room: number): BodyStream & { granted: number[] } {
  const granted: number[] = [];
  const grant = (increment: number) => {
    granted.push(increment);
    return increment <= room;
  };
  return { granted, done: Promise.resolve(), stop: () => {}, grant };
}

describe("applyCredit", () => {
  const warnings: unknown[] = [];
  const logger = { debug: () => {}, warn: (fields: Record<string, unknown>) => warnings.push(fields) };

  it("grants the increment to the stream, and says false only when the stream refuses it (past 2^31 - 1)", () => {
    const body = stream(100);
    expect(applyCredit(encodeCredit(64), body, logger)).toBe(true);
    expect(applyCredit(encodeCredit(101), body, logger)).toBe(false);
    expect(body.granted).toEqual([64, 101]);
  });

  it("ignores an increment of 0 and a credit with no stream, granting nothing", () => {
    const body = stream(100);
    expect(applyCredit(Buffer.alloc(4), body, logger)).toBe(true);
    expect(applyCredit(encodeCredit(5), null, logger)).toBe(true);
    expect(body.granted).toEqual([]);
  });

  it("ignores a payload that is not 4 bytes, logging it with the caller's fields", () => {
    const body = stream(100);
    warnings.length = 0;
    expect(applyCredit(Buffer.alloc(3), body, logger, { requestId: "r1" })).toBe(true);
    expect(body.granted).toEqual([]);
    expect(warnings).toEqual([{ requestId: "r1", error: "a CREDIT payload is 4 bytes, got 3" }]);
  });
});
