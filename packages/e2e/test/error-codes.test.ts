import * as broker from "@switchyard/broker-server";
import * as consumer from "@switchyard/client-consumer";
import * as provider from "@switchyard/client-provider";
import { BrokerError, type SwitchyardErrorCode } from "@switchyard/client-consumer";
import { describe, expect, expectTypeOf, it } from "vitest";

/** The generic bases: they carry whatever code they are given. */
const BASES = new Set<unknown>([consumer.SwitchyardError, consumer.BrokerError]);

/** Every error class the broker and the clients export (re-exports of the same class counted once). */
function exportedErrorClasses(): Array<new (message: string) => Error & { code: string }> {
  const classes = new Set<new (message: string) => Error & { code: string }>();
  for (const module of [broker, consumer, provider]) {
    for (const value of Object.values(module)) {
      if (typeof value === "function" && value.prototype instanceof Error && !BASES.has(value)) classes.add(value as never);
    }
  }
  return [...classes];
}

describe("error codes", () => {
  it("each exported error class owns one code, which no other class has, and is named as it is exported", () => {
    const owner = new Map<string, string>();
    for (const ErrorClass of exportedErrorClasses()) {
      const error = new ErrorClass("m");
      expect(error).toBeInstanceOf(consumer.SwitchyardError);
      expect(error.name).toBe(ErrorClass.name);
      expect(owner.get(error.code), `${error.code} is the code of ${owner.get(error.code)} and ${ErrorClass.name}`).toBeUndefined();
      owner.set(error.code, ErrorClass.name);
    }
    expect(owner.get("TIMEOUT")).toBe("TimeoutError");
    expect(owner.get("INVALID_ARGUMENT")).toBe("InvalidArgumentError");
  });

  it("an ERROR frame's code decodes to the class that owns it, or to BrokerError for a code no subclass owns", () => {
    const owners = new Map(exportedErrorClasses().map((ErrorClass) => [new ErrorClass("m").code, ErrorClass]));
    let wireCode = 1;
    for (; BrokerError.fromWire(wireCode, "").code !== "UNKNOWN_ERROR"; wireCode++) {
      const decoded = BrokerError.fromWire(wireCode, "from the wire");
      expect([decoded.wireCode, decoded.message]).toEqual([wireCode, "from the wire"]);
      expect(decoded.constructor, decoded.code).toBe(owners.get(decoded.code) ?? BrokerError);
    }
    expect(wireCode).toBeGreaterThan(14); // the whole table was read
    expect(BrokerError.fromWire(3, "late")).toBeInstanceOf(consumer.TimeoutError);
    expect(BrokerError.fromWire(9, "gone")).toBeInstanceOf(provider.CancelledError);
    expect(BrokerError.fromWire(1, "garbage")).toBeInstanceOf(consumer.ProtocolError);
  });

  it("SwitchyardErrorCode is the type of every error's code", () => {
    expectTypeOf<consumer.SwitchyardError["code"]>().toEqualTypeOf<SwitchyardErrorCode>();
    expectTypeOf<consumer.TimeoutError["code"]>().toExtend<SwitchyardErrorCode>();
    expectTypeOf<broker.ListenError["code"]>().toExtend<SwitchyardErrorCode>();
    expectTypeOf<"NOT_A_CODE">().not.toExtend<SwitchyardErrorCode>();
  });
});
