import { encodeFrame, type Frame, FrameType, ProtocolError } from "@switchyard/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerFrames } from "../../src/connection/broker-frames.js";
import { FramedConnection, type FramedConnectionOptions } from "../../src/connection/framed-connection.js";
import { IdleTimeoutError } from "../../src/errors.js";
import { Loopback, received, until } from "@switchyard/testing";

const ID = Buffer.alloc(16, 7);

/** A FramedConnection speaking broker frames, with what it reports recorded. */
function observed(socket: import("node:net").Socket, options: FramedConnectionOptions<Frame> = {}, onFrames?: (frames: Frame[]) => void) {
  const frames: Frame[] = [];
  const violations: unknown[] = [];
  const closes: Array<Error | undefined> = [];
  const connection = new FramedConnection<Frame>(
    socket,
    new BrokerFrames(),
    {
      onFrames: onFrames ?? ((batch) => frames.push(...batch)),
      onViolation: (error) => violations.push(error),
      onClose: (error) => closes.push(error),
    },
    options,
  );
  return { connection, frames, violations, closes };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("FramedConnection over a real socket", () => {
  const loopback = new Loopback();
  afterEach(() => loopback.closeAll());

  it("writes what its wire format encodes into its writer, and reads it back as frames on the other side", async () => {
    const { client, server } = await loopback.pair();
    const format = new BrokerFrames();
    const sender = observed(client);
    const receiver = observed(server);
    expect(format.write(sender.connection.writer, FrameType.START, 0, ID, [Buffer.from("hello")])).toBe(true);
    expect(format.writeControl(sender.connection.writer, FrameType.CANCEL, ID)).toBe(true);
    await until(() => receiver.frames.length === 2);
    expect(receiver.frames.map((frame) => frame.type)).toEqual([FrameType.START, FrameType.CANCEL]);
    expect(receiver.frames[0]!.payload.toString()).toBe("hello");
  });

  it("reports bytes that break the format to onViolation and delivers nothing after them", async () => {
    const { client, server } = await loopback.pair();
    const { frames, violations, closes } = observed(server);
    const bad = Buffer.from(encodeFrame(FrameType.START, 0, ID)[0]!);
    bad[0] = 0xee; // no such frame type
    client.write(Buffer.concat(encodeFrame(FrameType.START, 0, ID, Buffer.from("ok"))));
    await until(() => frames.length === 1);
    client.write(Buffer.concat([bad, ...encodeFrame(FrameType.END, 0, ID)]));
    await until(() => violations.length === 1);
    client.write(Buffer.concat(encodeFrame(FrameType.END, 0, ID)));
    await sleep(50);
    expect(violations[0]).toBeInstanceOf(ProtocolError);
    expect(frames.map((frame) => frame.type)).toEqual([FrameType.START]);
    // the owner decides how to close; until then the connection stays open and silent
    expect(closes).toEqual([]);
  });

  it("closes the connection with the error its owner's onFrames throws", async () => {
    const { client, server } = await loopback.pair();
    const failure = new Error("owner failed");
    const { connection, closes } = observed(server, {}, () => {
      throw failure;
    });
    client.write(Buffer.concat(encodeFrame(FrameType.PING, 0, ID)));
    await until(() => closes.length === 1);
    expect(closes[0]).toBe(failure);
    expect(connection.state).toBe("closed");
  });

  it("stops delivering while its owner pauses reads, and delivers what waited once it resumes", async () => {
    const { client, server } = await loopback.pair();
    const { connection, frames } = observed(server);
    connection.pauseReads();
    client.write(Buffer.concat(encodeFrame(FrameType.PING, 0, ID)));
    await sleep(100);
    expect(frames).toEqual([]);
    connection.resumeReads();
    await until(() => frames.length === 1);
    expect(frames[0]!.type).toBe(FrameType.PING);
  });

  it("with awaitingReply, counts silence toward the read timeout only while a reply is awaited, and then gives the peer the whole timeout", async () => {
    const { server } = await loopback.pair();
    let awaiting = false;
    const readTimeout = 200;
    const { connection, closes } = observed(server, { readTimeout, awaitingReply: () => awaiting });
    await sleep(3 * readTimeout);
    expect(closes).toEqual([]); // silent for three timeouts, but nothing was awaited
    expect(connection.state).toBe("open");
    awaiting = true;
    const awaitedAt = performance.now();
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(performance.now() - awaitedAt).toBeGreaterThanOrEqual(readTimeout);
  });

  it("without awaitingReply, closes a silent peer at the read timeout, its own writes not counting", async () => {
    const { client, server } = await loopback.pair();
    const inbox = received(client);
    const format = new BrokerFrames();
    const { connection, closes } = observed(server, { readTimeout: 200 });
    const writing = setInterval(() => format.write(connection.writer, FrameType.PING, 0, ID, []), 20);
    try {
      await until(() => closes.length === 1);
    } finally {
      clearInterval(writing);
    }
    expect(closes[0]).toBeInstanceOf(IdleTimeoutError);
    expect(inbox.bytes().length).toBeGreaterThan(0);
  });
});
