import { describe, expect, it } from "vitest";
import * as anet from "../src/index.js";

describe("anet error codes", () => {
  it("each exported error class owns one code, which no other class has, and is named as it is exported", () => {
    const owner = new Map<string, string>();
    for (const value of Object.values(anet)) {
      if (typeof value !== "function" || !(value.prototype instanceof Error) || value === anet.AnetError) continue;
      const ErrorClass = value as new (message: string) => Error & { code: string };
      const error = new ErrorClass("m");
      expect(error.name).toBe(ErrorClass.name);
      expect(owner.get(error.code), `${error.code} is the code of ${owner.get(error.code)} and ${ErrorClass.name}`).toBeUndefined();
      owner.set(error.code, ErrorClass.name);
    }
    // A request's deadline and a pool's are the same code, so the same class.
    expect(owner.get("TIMEOUT")).toBe("TimeoutError");
    expect(owner.size).toBeGreaterThanOrEqual(10);
  });
});
