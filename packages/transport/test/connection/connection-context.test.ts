import { CONNECTION_ID, decodeErrorBody, encodeFrame, type Frame, FrameDecoder, FrameType, ProtocolError } from "@switchyard/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionContext } from "../../src/connection/connection-context.js";
import { SocketReader } from "../../src/connection/socket-reader.js";
import { DisconnectedError, IdleTimeoutError, SlowPeerError } from "../../src/errors.js";
import { Loopback, received, until } from "@switchyard/testing";

const MiB = 1024 * 1024;
const ID = Buffer.alloc(16, 9);

/** A ConnectionContext with its frames and close reason recorded. */
function observed(socket: import("node:net").Socket, options = {}) {
  const frames: Frame[] = [];
  const closes: Array<Error | undefined> = [];
  const connection = new ConnectionContext(socket, { onFrame: (frame) => frames.push(frame), onClose: (error) => closes.push(error) }, options);
  return { connection, frames, closes };
}

function decodeAll(bytes: Buffer): Frame[] {
  return new FrameDecoder().push(bytes);
}

describe("ConnectionContext over a real socket", () => {
  const loopback = new Loopback();
  afterEach(() => loopback.closeAll());

  it("delivers frames in order however the bytes are cut", async () => {
    const { client, server } = await loopback.pair();
    const { frames } = observed(server);
    const bytes = Buffer.concat([
      ...encodeFrame(FrameType.START, 0, ID, Buffer.from("first")),
      ...encodeFrame(FrameType.CHUNK, 0, ID, Buffer.alloc(5000, 1)),
      ...encodeFrame(FrameType.END, 0, ID),
    ]);
    for (let offset = 0; offset < bytes.length; offset += 7) {
      client.write(bytes.subarray(offset, offset + 7));
      if (offset % 700 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => frames.length === 3);
    expect(frames.map((f) => f.type)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.END]);
    expect(frames[0]!.payload.toString()).toBe("first");
    expect(frames[1]!.payload.length).toBe(5000);
  });

  for (const via of ["data", "onread"] as const) {
    it(`answers every frame of a burst with its error, never refused, pausing reads past maxWriteQueueErrorFrames until they are written (reading via ${via})`, async () => {
      const reader = via === "onread" ? new SocketReader<Frame>() : undefined;
      const pair = await loopback.pair(reader?.onread);
      // the side under test reads: the server's 'data' events, or the client's onread
      const [reading, peer] = via === "data" ? [pair.server, pair.client] : [pair.client, pair.server];
      const pause = vi.spyOn(reading, "pause");
      const resume = vi.spyOn(reading, "resume");
      const connection: ConnectionContext = new ConnectionContext(
        reading,
        { onFrame: (frame) => expect(connection.sendError(frame.requestId, { wireCode: 2, message: "no provider" })).toBe(true), onClose: () => {} },
        { maxWriteQueueErrorFrames: 3, ...(reader === undefined ? {} : { reader }) },
      );
      const inbox = received(peer);
      const ids = Array.from({ length: 500 }, (_, i) => Buffer.alloc(16, (i % 255) + 1));
      peer.write(Buffer.concat(ids.flatMap((id) => encodeFrame(FrameType.START, 0, id))));
      await until(() => decodeAll(inbox.bytes()).length === 500);
      const answers = decodeAll(inbox.bytes());
      expect(answers.every((frame) => frame.type === FrameType.ERROR)).toBe(true);
      expect(answers.map((frame) => frame.requestId[0])).toEqual(ids.map((id) => id[0]));
      expect(pause).toHaveBeenCalled();
      await until(() => resume.mock.calls.length >= pause.mock.calls.length && !reading.isPaused());
      expect(connection.state).toBe("open");
      expect(connection.queuedErrorFrames).toBe(0);
    });
  }

  it("answers a protocol violation with ERROR(PROTOCOL_ERROR) on requestId zero, then closes that connection", async () => {
    const { client, server } = await loopback.pair();
    const { closes } = observed(server);
    const inbox = received(client);
    const ended = new Promise((resolve) => client.once("close", resolve));
    const bad = encodeFrame(FrameType.START, 0, ID)[0]!;
    bad[0] = 9; // unknown version
    client.write(bad);
    await ended;
    const [answer] = decodeAll(inbox.bytes());
    expect(answer!.type).toBe(FrameType.ERROR);
    expect(answer!.requestId.equals(CONNECTION_ID)).toBe(true);
    expect(decodeErrorBody(answer!.payload).code).toBe("PROTOCOL_ERROR");
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(ProtocolError);
  });

  it("closes a connection that receives nothing for readTimeout as idle", async () => {
    const { server } = await loopback.pair();
    const { closes, connection } = observed(server, { readTimeout: 100 });
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(closes[0]).toMatchObject({ code: "IDLE_TIMEOUT" });
    expect(connection.state).toBe("closed");
  });

  it("closes a connection at readTimeout when it only writes: its own writes do not count as received", async () => {
    const { client, server } = await loopback.pair();
    received(client); // the peer reads everything, answers nothing
    const { closes, connection } = observed(server, { readTimeout: 300 });
    const openedAt = performance.now();
    const writer = setInterval(() => connection.sendFrame(FrameType.PING, 0, CONNECTION_ID), 20);
    try {
      await until(() => closes.length === 1, 3000);
    } finally {
      clearInterval(writer);
    }
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(290);
  });

  it("calls onQuiet once at half the read timeout, and a byte received starts the silence over", async () => {
    const { client, server } = await loopback.pair();
    const quiet: number[] = [];
    const closes: Array<Error | undefined> = [];
    const openedAt = performance.now();
    new ConnectionContext(
      server,
      { onFrame: () => {}, onClose: (error) => closes.push(error), onQuiet: () => quiet.push(performance.now() - openedAt) },
      { readTimeout: 400 },
    );
    await until(() => quiet.length === 1);
    expect(quiet[0]).toBeGreaterThanOrEqual(190);
    for (const part of encodeFrame(FrameType.PONG, 0, CONNECTION_ID)) client.write(part);
    await until(() => quiet.length === 2);
    expect(closes).toEqual([]); // the PONG kept it open past its first read timeout
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(quiet).toHaveLength(2);
  });

  it("probe() PINGs the peer and closes the connection if nothing comes back in time; a peer that answers stays", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(client);
    const { connection, closes } = observed(server, { readTimeout: 0 });
    connection.probe(150);
    connection.probe(150); // one probe at a time: no second PING
    await until(() => decodeAll(inbox.bytes()).length === 1);
    const [ping] = decodeAll(inbox.bytes());
    expect(ping).toMatchObject({ type: FrameType.PING });
    for (const part of encodeFrame(FrameType.PONG, 0, CONNECTION_ID)) client.write(part);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closes).toEqual([]);
    const probedAt = performance.now();
    connection.probe(150); // now the peer stays silent
    await until(() => closes.length === 1);
    expect(performance.now() - probedAt).toBeGreaterThanOrEqual(140);
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(decodeAll(inbox.bytes()).filter((frame) => frame.type === FrameType.PING)).toHaveLength(2);
  });

  it("probe() PINGs even when the write queue is full of frames (regression: the PING was refused and a live peer closed)", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(client);
    const { connection } = observed(server, { readTimeout: 0, maxWriteQueueFrames: 2 });
    expect(connection.sendFrame(FrameType.RESPONSE, 0, ID, Buffer.from("a"))).toBe(true);
    expect(connection.sendFrame(FrameType.RESPONSE, 0, ID, Buffer.from("b"))).toBe(true);
    expect(connection.sendFrame(FrameType.RESPONSE, 0, ID, Buffer.from("c"))).toBe(false); // full
    connection.probe(5_000);
    await until(() => decodeAll(inbox.bytes()).length === 3);
    expect(decodeAll(inbox.bytes()).map((frame) => frame.type)).toEqual([FrameType.RESPONSE, FrameType.RESPONSE, FrameType.PING]);
    connection.destroy(new Error("test over"));
  });

  it("closes a peer that leaves its socket full past writeTimeout as a slow peer", async () => {
    const { client, server } = await loopback.pair();
    client.pause();
    const { connection, closes } = observed(server, { writeTimeout: 100, maxWriteQueueBytes: 256 * MiB });
    for (let i = 0; i < 32; i++) expect(connection.sendFrame(FrameType.CHUNK, 0, ID, Buffer.alloc(MiB))).toBe(true);
    await Promise.resolve(); // the early flush runs at the end of the synchronous run
    expect(connection.blocked).toBe(true);
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(SlowPeerError);
  });

  it("close() flushes what is queued before ending, then refuses frames", async () => {
    const { client, server } = await loopback.pair();
    const { connection, closes } = observed(server);
    const inbox = received(client);
    client.on("end", () => client.end());
    for (let i = 0; i < 10; i++) connection.sendFrame(FrameType.RESPONSE, 0, ID, Buffer.from(`r${i}`));
    await Promise.all([connection.close(), connection.close()]);
    expect(connection.state).toBe("closed");
    expect(decodeAll(inbox.bytes()).map((f) => f.payload.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(connection.sendFrame(FrameType.RESPONSE, 0, ID)).toBe(false);
    expect(closes).toEqual([undefined]);
  });

  it("reports a peer that resets the connection as DISCONNECTED, once", async () => {
    const { client, server } = await loopback.pair();
    const { closes } = observed(server);
    client.resetAndDestroy();
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(DisconnectedError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closes).toHaveLength(1);
  });

  it("a handler that throws closes the connection with that error", async () => {
    const { client, server } = await loopback.pair();
    const closes: Array<Error | undefined> = [];
    new ConnectionContext(server, {
      onFrame: () => {
        throw new Error("handler bug");
      },
      onClose: (error) => closes.push(error),
    });
    client.write(Buffer.concat(encodeFrame(FrameType.PING, 0, ID)));
    await until(() => closes.length === 1);
    expect(closes[0]?.message).toBe("handler bug");
  });

  it("sends errors through the priority queue ahead of frames queued in the same tick", async () => {
    const { client, server } = await loopback.pair();
    const { connection } = observed(server);
    const inbox = received(client);
    connection.sendFrame(FrameType.RESPONSE, 0, ID, Buffer.from("regular"));
    connection.sendError(ID, { wireCode: 5, message: "overloaded" }, Buffer.alloc(32, 1));
    await until(() => decodeAll(inbox.bytes()).length === 2);
    const [first, second] = decodeAll(inbox.bytes());
    expect(first!.type).toBe(FrameType.ERROR);
    expect(decodeErrorBody(first!.payload.subarray(32))).toMatchObject({ code: "OVERLOADED", message: "overloaded" });
    expect(second!.type).toBe(FrameType.RESPONSE);
  });
});
