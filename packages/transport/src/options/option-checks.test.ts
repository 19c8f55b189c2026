import { InvalidArgumentError } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { numberOption, stringOption } from "./option-checks.js";

describe("numberOption", () => {
  it("gives the default for undefined and the value when it is in bounds", () => {
    expect(numberOption("n", undefined, 7)).toBe(7);
    expect(numberOption("n", 0, 7)).toBe(0);
    expect(numberOption("n", 2.5, 7, { integer: false })).toBe(2.5);
    expect(numberOption("n", Number.POSITIVE_INFINITY, 7)).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([-1, 1.5, Number.NaN, "5", null, 11])("refuses %s naming the option", (value) => {
    expect(() => numberOption("maxThings", value, 1, { max: 10 })).toThrow(InvalidArgumentError);
    expect(() => numberOption("maxThings", value, 1, { max: 10 })).toThrow(/maxThings/);
  });
});

describe("stringOption", () => {
  it("passes strings and undefined, refuses anything else naming the option", () => {
    expect(stringOption("s", "x")).toBe("x");
    expect(stringOption("s", undefined)).toBeUndefined();
    expect(() => stringOption("authToken", 42)).toThrow(/authToken/);
  });
});
