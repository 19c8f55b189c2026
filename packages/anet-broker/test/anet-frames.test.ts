import { AnetDecoder, encodeAnetFrame } from "@switchyard/protocol";
import { Loopback, received, until } from "@switchyard/testing";
import { SocketWriter } from "@switchyard/transport/internal";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnetFrames } from "../src/anet-frames.js";

describe("AnetFrames over a SocketWriter", () => {
  const loopback = new Loopback();
  afterEach(() => loopback.closeAll());

  it.each([2, 4] as const)("encodes anet frames (%d-byte prefix) into the batch byte for byte as encodeAnetFrame does, a large body uncopied and in order", async (lengthSize) => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const write = vi.spyOn(client, "write");
    const writer = new SocketWriter(client, {}, () => {});
    const format = new AnetFrames({ lengthSize, maxBodyBytes: undefined });
    const large = Buffer.alloc(20_000, 0x5a);
    const frames: Array<[number, Uint8Array]> = [
      [1, Buffer.from("first")],
      [0xffff_ffff, Buffer.alloc(0)],
      [7, new Uint8Array([1, 2, 3])],
      [8, large],
      [9, Buffer.from("after")],
    ];
    for (const [taskId, body] of frames) expect(format.write(writer, taskId, body)).toBe(true);
    expect(writer.queuedFrames).toBe(5);
    const expected = Buffer.concat(frames.flatMap(([taskId, body]) => encodeAnetFrame(taskId, body, { lengthSize })));
    await until(() => inbox.bytes().length >= expected.length);
    expect(inbox.bytes().equals(expected)).toBe(true);
    expect(write.mock.calls.some(([chunk]) => chunk === large)).toBe(true);
  });

  it("makes a decoder per connection that reads back what it writes", () => {
    const format = new AnetFrames({ lengthSize: 4, maxBodyBytes: 100 });
    const one = format.decoder();
    expect(one).toBeInstanceOf(AnetDecoder);
    expect(format.decoder()).not.toBe(one);
    const [frame] = one.push(Buffer.concat(encodeAnetFrame(42, Buffer.from("hello"), { lengthSize: 4 })));
    expect(frame?.taskId).toBe(42);
    expect(frame?.body.toString()).toBe("hello");
    expect(() => format.decoder().push(Buffer.concat(encodeAnetFrame(1, Buffer.alloc(101), { lengthSize: 4 })))).toThrow(/exceeds the maximum/);
  });
});
