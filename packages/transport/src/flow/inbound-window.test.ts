import { MIN_STREAM_WINDOW } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { InboundWindow } from "./inbound-window.js";

const W = MIN_STREAM_WINDOW * 2;

describe("InboundWindow", () => {
  it("grants nothing for a body under half the window, however it is consumed, nor for a whole window consumed after its end", () => {
    const grants: number[] = [];
    const window = new InboundWindow(W, (n) => grants.push(n));
    for (let i = 0; i < 4; i++) {
      expect(window.received(W / 8 - 1)).toBe(true);
      window.consumed(W / 8 - 1);
    }
    expect(grants).toEqual([]);
    const whole = new InboundWindow(W, (n) => grants.push(n));
    whole.received(W);
    whole.end();
    whole.consumed(W);
    window.end();
    window.consumed(0);
    expect(grants).toEqual([]);
  });

  it("grants in batches of at least half a window, only for what was consumed, never after the body ended", () => {
    const grants: number[] = [];
    const window = new InboundWindow(W, (n) => grants.push(n));
    window.received(W);
    expect(window.credit).toBe(0);
    window.consumed(W / 4);
    expect(grants).toEqual([]);
    expect(window.held).toBe((3 * W) / 4);
    window.consumed(W / 4 + 10);
    expect(grants).toEqual([W / 2 + 10]);
    expect(window.credit).toBe(W / 2 + 10);
    window.end();
    window.consumed(W / 2);
    expect(grants).toEqual([W / 2 + 10]);
  });

  it("refuses bytes past the credit (the sender broke flow control) and counts nothing of them", () => {
    const window = new InboundWindow(W, () => {});
    expect(window.received(W - 1)).toBe(true);
    expect(window.received(2)).toBe(false);
    expect(window.credit).toBe(1);
    expect(window.received(1)).toBe(true);
  });

  it("never holds more than the window: received less consumed stays within it whatever the order", () => {
    const window = new InboundWindow(W, () => {});
    let held = 0;
    for (let i = 0; i < 1000; i++) {
      const size = (i * 7919) % (MIN_STREAM_WINDOW / 2);
      if (window.received(size)) held += size;
      const eat = Math.min(held, (i * 104729) % MIN_STREAM_WINDOW);
      window.consumed(eat);
      held -= eat;
      expect(window.held).toBe(held);
      expect(held).toBeLessThanOrEqual(W);
    }
  });
});
