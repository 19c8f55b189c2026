import { encodeFrame, FrameDecoder, FrameType, HEADER_SIZE } from "@switchyard/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BrokerFrames } from "../../src/connection/broker-frames.js";
import { SocketWriter } from "../../src/connection/socket-writer.js";
import { SlowPeerError } from "../../src/errors.js";
import { Loopback, received, until } from "@switchyard/testing";

const MiB = 1024 * 1024;
/** The broker's format: SocketWriter encodes no frame itself. */
const format = new BrokerFrames();

function frame(text: string): Buffer[] {
  return [Buffer.from(text)];
}

describe("SocketWriter over a real socket", () => {
  const loopback = new Loopback();
  afterEach(() => loopback.closeAll());

  it("writes everything queued in one tick with one socket write, at the end of the tick", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const write = vi.spyOn(client, "write");
    const writer = new SocketWriter(client, {}, () => {});
    for (let i = 0; i < 100; i++) expect(writer.write(frame(`f${i};`))).toBe(true);
    expect(write).not.toHaveBeenCalled();
    expect(writer.queuedFrames).toBe(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(write).toHaveBeenCalledTimes(1);
    const expected = Array.from({ length: 100 }, (_, i) => `f${i};`).join("");
    await until(() => inbox.bytes().length === expected.length);
    expect(inbox.bytes().toString()).toBe(expected);
  });

  it("encodes broker frames into the batch byte-exact, across slab boundaries and flushes, never rewriting bytes already handed to the socket", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const writer = new SocketWriter(client, {}, () => {});
    const expected: Buffer[] = [];
    for (let round = 0; round < 3; round++) {
      // ~150 KiB of small frames per round: more than two 64 KiB slabs, with a flush between rounds
      for (let i = 0; i < 1500; i++) {
        const id = Buffer.alloc(16, (round * 1500 + i) & 0xff);
        const body = Buffer.from(`round ${round} frame ${i} `.padEnd(70, "."));
        expect(format.write(writer, FrameType.CHUNK, 0, id, [body])).toBe(true);
        expected.push(...encodeFrame(FrameType.CHUNK, 0, id, body));
      }
      const big = Buffer.alloc(20 * 1024, round + 1); // large part: queued uncopied between slab regions
      const id = Buffer.alloc(16, 0xee);
      expect(format.write(writer, FrameType.RESPONSE, 0, id, [Buffer.from("head"), big])).toBe(true);
      expected.push(...encodeFrame(FrameType.RESPONSE, 0, id, Buffer.from("head"), big));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const all = Buffer.concat(expected);
    await until(() => inbox.bytes().length >= all.length);
    expect(inbox.bytes().equals(all)).toBe(true);
  });

  it("leaves the batch intact when a frame's head cannot be encoded (a caller's bug)", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const writer = new SocketWriter(client, {}, () => {});
    const id = Buffer.alloc(16, 1);
    expect(format.write(writer, FrameType.CHUNK, 0, id, [Buffer.from("ok")])).toBe(true);
    expect(() => format.write(writer, FrameType.CHUNK, 0, Buffer.alloc(3), [Buffer.from("bad id")])).toThrow();
    expect(format.write(writer, FrameType.END, 0, id, [])).toBe(true);
    const expected = Buffer.concat([...encodeFrame(FrameType.CHUNK, 0, id, Buffer.from("ok")), ...encodeFrame(FrameType.END, 0, id)]);
    await until(() => inbox.bytes().length >= expected.length);
    expect(inbox.bytes().equals(expected)).toBe(true);
    expect(writer.queuedFrames).toBe(0);
  });

  it("flushes at the end of the synchronous run once a quarter MiB is queued, with what is queued behind it, large parts uncopied", async () => {
    const { client } = await loopback.pair();
    const write = vi.spyOn(client, "write");
    const writer = new SocketWriter(client, {}, () => {});
    const big = Buffer.alloc(300 * 1024, 1);
    writer.write([Buffer.from("head"), big]);
    writer.write([Buffer.from("end")]);
    expect(write).not.toHaveBeenCalled();
    await Promise.resolve(); // one microtask: before any I/O or setImmediate
    const chunks = write.mock.calls.map(([chunk]) => chunk as Buffer);
    expect(chunks.some((chunk) => chunk === big)).toBe(true);
    expect(Buffer.concat(chunks).subarray(-3).toString()).toBe("end");
    expect(writer.queuedFrames).toBe(0);
  });

  it("refuses with false, never dropping silently, past maxWriteQueueFrames or maxWriteQueueBytes", async () => {
    const { client } = await loopback.pair();
    const byFrames = new SocketWriter(client, { maxWriteQueueFrames: 3 }, () => {});
    expect([1, 2, 3, 4].map((i) => byFrames.write(frame(`${i}`)))).toEqual([true, true, true, false]);
    expect(byFrames.queuedFrames).toBe(3);
    const { client: other } = await loopback.pair();
    const byBytes = new SocketWriter(other, { maxWriteQueueBytes: 10 }, () => {});
    expect(byBytes.write(frame("123456"))).toBe(true);
    expect(byBytes.write(frame("12345"))).toBe(false);
    expect(byBytes.write(frame("1234"))).toBe(true);
  });

  it("has its own error queue, flushed before regular frames, that refuses nothing and is backlogged past maxWriteQueueErrorFrames", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const writer = new SocketWriter(client, { maxWriteQueueFrames: 1, maxWriteQueueErrorFrames: 2, maxWriteQueueBytes: 30 }, () => {});
    expect(writer.write(frame("regular;"))).toBe(true);
    expect(writer.write(frame("refused;"))).toBe(false);
    expect(writer.writeError(frame("error1;"))).toBe(true);
    expect(writer.backlogged).toBe(false);
    expect(writer.writeError(frame("error2;"))).toBe(true);
    expect(writer.backlogged).toBe(true);
    // past the mark and past the byte limit: an error is a request's only outcome, never refused
    expect(writer.writeError(frame("error3;"))).toBe(true);
    expect(writer.queuedErrorFrames).toBe(3);
    await until(() => inbox.bytes().length === 29);
    expect(inbox.bytes().toString()).toBe("error1;error2;error3;regular;");
    expect(writer.backlogged).toBe(false);
  });

  it("queues a header-only control frame (CANCEL) in order with regular frames, past maxWriteQueueFrames too, refusing it only once closed", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(server);
    const writer = new SocketWriter(client, { maxWriteQueueFrames: 1 }, () => {});
    const id = Buffer.alloc(16, 7);
    expect(format.write(writer, FrameType.START, 0, id, [Buffer.from("body")])).toBe(true);
    expect(format.write(writer, FrameType.CHUNK, 0, id, [Buffer.from("refused")])).toBe(false);
    expect(format.writeControl(writer, FrameType.CANCEL, id)).toBe(true);
    expect(format.writeControl(writer, FrameType.CANCEL, id)).toBe(true);
    await until(() => inbox.bytes().length === 3 * HEADER_SIZE + 4);
    const frames = new FrameDecoder().push(inbox.bytes());
    expect(frames.map((frame) => frame.type)).toEqual([FrameType.START, FrameType.CANCEL, FrameType.CANCEL]);
    expect(frames[1]!.requestId.equals(id)).toBe(true);
    writer.close();
    expect(format.writeControl(writer, FrameType.CANCEL, id)).toBe(false);
  });

  it("reports a peer that does not drain its socket within writeTimeout as a slow peer", async () => {
    const { client, server } = await loopback.pair();
    server.pause();
    const failures: Error[] = [];
    const writer = new SocketWriter(client, { writeTimeout: 100, maxWriteQueueBytes: 256 * MiB }, (error) => failures.push(error));
    // Far more than loopback's kernel buffers hold, so the socket stays full.
    for (let i = 0; i < 32; i++) expect(writer.write([Buffer.alloc(MiB)])).toBe(true);
    await Promise.resolve(); // the early flush runs at the end of the synchronous run
    expect(writer.blocked).toBe(true);
    await until(() => failures.length > 0);
    expect(failures[0]).toBeInstanceOf(SlowPeerError);
    expect(failures[0]).toMatchObject({ code: "SLOW_PEER" });
  });

  it("drained() waits while blocked and resolves once the peer reads, without a slow-peer failure", async () => {
    const { client, server } = await loopback.pair();
    server.pause();
    const failures: Error[] = [];
    const writer = new SocketWriter(client, { writeTimeout: 10_000, maxWriteQueueBytes: 256 * MiB }, (error) => failures.push(error));
    for (let i = 0; i < 32; i++) expect(writer.write([Buffer.alloc(MiB)])).toBe(true);
    let drained = false;
    const waiting = writer.drained().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    server.resume();
    await waiting;
    expect(writer.blocked).toBe(false);
    expect(failures).toEqual([]);
  });

  it("after close() drops what is queued, refuses writes and resolves drained()", async () => {
    const { client } = await loopback.pair();
    const writer = new SocketWriter(client, {}, () => {});
    writer.write(frame("queued"));
    writer.close();
    expect(writer.queuedFrames).toBe(0);
    expect(writer.write(frame("later"))).toBe(false);
    expect(writer.writeError(frame("later"))).toBe(false);
    await writer.drained();
  });
});
