import { CancelledError } from "@switchyard/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyStreamOf, RequestBodyStream } from "./request-body-stream.js";

async function readAll(stream: RequestBodyStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe("RequestBodyStream", () => {
  it("yields what was delivered, in order, then ends; onRead counts every byte handed over", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 30 }), fc.integer({ min: 0, max: 30 }), async (parts, endAfter) => {
        let read = 0;
        const stream = new RequestBodyStream((bytes) => {
          read += bytes;
        });
        const reading = readAll(stream);
        // some parts before the reader asks, the rest as it reads
        const cut = Math.min(endAfter, parts.length);
        for (const part of parts.slice(0, cut)) stream.deliver(Buffer.from(part));
        await Promise.resolve();
        for (const part of parts.slice(cut)) stream.deliver(Buffer.from(part));
        stream.end();
        const whole = Buffer.concat(parts.map((part) => Buffer.from(part)));
        expect((await reading).equals(whole)).toBe(true);
        expect(read).toBe(whole.length);
        expect(stream.unread).toBe(0);
      }),
    );
  });

  it("counts as unread what waits for the reader, and hands one chunk over per request for more", () => {
    const handed: number[] = [];
    const stream = new RequestBodyStream((bytes) => handed.push(bytes));
    stream.deliver(Buffer.alloc(10));
    stream.deliver(Buffer.alloc(20));
    expect(stream.unread).toBe(30);
    expect(stream.read()?.length).toBe(10);
    expect(handed).toEqual([10]);
    expect(stream.unread).toBe(20);
  });

  it("yields each chunk as the very buffer delivered, never several joined into a copy", async () => {
    const stream = new RequestBodyStream();
    const parts = [Buffer.alloc(1000, 1), Buffer.alloc(2000, 2), Buffer.alloc(3000, 3)];
    const reader = stream[Symbol.asyncIterator]();
    const first = reader.next(); // the reader waits: the next chunk goes straight to it…
    for (const part of parts) stream.deliver(part); // …and the others arrive before it reads again
    stream.end();
    const seen: unknown[] = [(await first).value];
    for (let next = await reader.next(); !next.done; next = await reader.next()) seen.push(next.value);
    expect(seen).toHaveLength(3);
    for (const [i, chunk] of seen.entries()) expect(chunk).toBe(parts[i]);
  });

  it("hands no more than one chunk to the Readable ahead of its reader (credit follows reading)", () => {
    const handed: number[] = [];
    const stream = new RequestBodyStream((bytes) => handed.push(bytes));
    for (let i = 0; i < 5; i++) stream.deliver(Buffer.alloc(100));
    stream.read(); // the reader takes one: at most one more moves over
    expect(handed.length).toBeLessThanOrEqual(2);
    expect(stream.unread).toBeGreaterThanOrEqual(300);
  });

  it("a destroy with an error reaches a reader", async () => {
    const stream = new RequestBodyStream();
    stream.deliver(Buffer.from("a"));
    const reading = readAll(stream);
    stream.destroy(new CancelledError("cancelled"));
    await expect(reading).rejects.toBeInstanceOf(CancelledError);
  });

  it("a destroy with an error emits nothing when nobody listens (no uncaught 'error')", async () => {
    const stream = new RequestBodyStream();
    stream.deliver(Buffer.from("a"));
    stream.destroy(new CancelledError("cancelled"));
    await new Promise((resolve) => stream.once("close", resolve));
    expect(stream.destroyed).toBe(true);
    expect(stream.unread).toBe(0);
  });

  it("drops what is delivered after a destroy", () => {
    const stream = new RequestBodyStream();
    stream.destroy();
    stream.deliver(Buffer.from("late"));
    expect(stream.unread).toBe(0);
  });

  it("bodyStreamOf yields a whole body as one chunk", async () => {
    expect(String(await readAll(bodyStreamOf(Buffer.from("whole"))))).toBe("whole");
    expect((await readAll(bodyStreamOf(Buffer.alloc(0)))).length).toBe(0);
  });
});
