import { describe, expect, it } from "vitest";
import { BodyAssembler } from "./body-assembler.js";

describe("BodyAssembler", () => {
  it("joins parts in order, and hands a single part back without copying", () => {
    const assembler = new BodyAssembler();
    const only = Buffer.from("only");
    assembler.push(only);
    expect(assembler.take()).toBe(only);
    assembler.push(Buffer.from("ab"));
    assembler.push(Buffer.alloc(0));
    assembler.push(Buffer.from("cd"));
    expect(assembler.size).toBe(4);
    expect(assembler.take().toString()).toBe("abcd");
    expect(assembler.size).toBe(0);
    expect(assembler.take().length).toBe(0);
  });

  it("accepts exactly maxBytes and refuses the part that would pass it, adding nothing", () => {
    const assembler = new BodyAssembler(5);
    expect(assembler.push(Buffer.from("abc"))).toBe(true);
    expect(assembler.push(Buffer.from("de"))).toBe(true);
    expect(assembler.push(Buffer.from("f"))).toBe(false);
    expect(assembler.take().toString()).toBe("abcde");
  });
});
