import { describe, expect, it } from "vitest";
import { rejectWithCallerStack } from "./caller-stack.js";

describe("rejectWithCallerStack", () => {
  it("rejects with an error whose stack shows the function awaiting the promise, though made from a timer", async () => {
    const pending = () =>
      new Promise<string>((resolve, reject) => {
        setTimeout(() => rejectWithCallerStack(resolve, reject, () => new Error("made in a timer")), 1);
      });
    async function awaitingCaller() {
      return await pending();
    }
    const error = await awaitingCaller().then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.message).toBe("made in a timer");
    expect(error?.stack).toMatch(/at (async )?awaitingCaller/);
  });

  it("a plain reject from the same timer has no such frame, which is why this exists", async () => {
    const pending = () =>
      new Promise<string>((_resolve, reject) => {
        setTimeout(() => reject(new Error("made in a timer")), 1);
      });
    async function awaitingCaller() {
      return await pending();
    }
    const error = await awaitingCaller().then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.stack).not.toMatch(/awaitingCaller/);
  });
});
