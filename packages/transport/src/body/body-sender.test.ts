import { Readable } from "node:stream";
import { FrameFlags, FrameType } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import type { ConnectionContext } from "../connection/connection-context.js";
import { type BodyStream, REQUEST_BODY_FRAMES, RESPONSE_BODY_FRAMES, STREAM_HIGH_WATER, sendBody } from "./body-sender.js";

interface Sent {
  type: number;
  flags: number;
  payload: Buffer;
}

/** The requestId of every frame sent, copied as the real connection does when it encodes a frame. */
const sentIds = new WeakMap<Sent, Buffer>();

/**
 * Stands in for a ConnectionContext: records frames, can refuse, block and close. `queuedFrames`
 * and `queuedBytes` stand for frames of others waiting to be written; drain() writes them.
 */
class StubConnection {
  readonly sent: Sent[] = [];
  state: "open" | "closed" = "open";
  blocked = false;
  acceptFrames = Number.POSITIVE_INFINITY;
  queuedFrames = 0;
  queuedBytes = 0;
  #drained: Array<() => void> = [];

  sendFrame(type: number, flags: number, requestId: Uint8Array, ...parts: Uint8Array[]): boolean {
    return this.sendFrameParts(type, flags, requestId, parts);
  }

  sendFrameParts(type: number, flags: number, requestId: Uint8Array, parts: readonly Uint8Array[]): boolean {
    if (this.state !== "open" || this.sent.length >= this.acceptFrames) return false;
    const frame = { type, flags, payload: Buffer.concat(parts) };
    sentIds.set(frame, Buffer.from(requestId));
    this.sent.push(frame);
    return true;
  }

  drained(): Promise<void> {
    if (!this.blocked && this.queuedFrames === 0 && this.queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  drain(): void {
    this.blocked = false;
    this.queuedFrames = this.queuedBytes = 0;
    for (const wake of this.#drained.splice(0)) wake();
  }
}

const ID = Buffer.alloc(16, 7);
const PREFIX = Buffer.from([0, 0, 0x13, 0x88]);

function route(connection: StubConnection, maxPayload = 100, reserve = 0) {
  return { connection: connection as unknown as ConnectionContext, frames: REQUEST_BODY_FRAMES, maxPayload, reserve };
}

function bytes(size: number, seed = 1): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff));
}

function types(connection: StubConnection): number[] {
  return connection.sent.map((frame) => frame.type);
}

async function* chunksOf(...parts: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  for (const part of parts) yield part;
}

describe("sendBody", () => {
  it("sends text that fits as one whole frame, synchronously, prefix first", () => {
    const connection = new StubConnection();
    expect(sendBody(route(connection), ID, PREFIX, "héllo")).toBe(true);
    expect(connection.sent).toEqual([{ type: FrameType.START, flags: FrameFlags.FINAL, payload: Buffer.concat([PREFIX, Buffer.from("héllo")]) }]);
  });

  it("fills the first frame to maxPayload minus reserve and prefix; one byte more goes as the prefix alone, then the body in one chunk", async () => {
    const whole = new StubConnection();
    expect(sendBody(route(whole, 100, 32), ID, PREFIX, bytes(64))).toBe(true);
    const streamed = new StubConnection();
    const stream = sendBody(route(streamed, 100, 32), ID, PREFIX, bytes(65)) as BodyStream;
    await stream.done;
    expect(types(streamed)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.END]);
    expect(streamed.sent[0]!.flags).toBe(FrameFlags.NONE);
    expect(streamed.sent[0]!.payload).toEqual(PREFIX);
    expect(streamed.sent[1]!.payload).toEqual(bytes(65));
    expect(streamed.sent[2]!.payload.length).toBe(0);
  });

  it("sends bytes of up to maxPayload that do not fit the first frame as one whole chunk, so the receiver need not join pieces", async () => {
    const connection = new StubConnection();
    await (sendBody(route(connection, 100, 32), ID, PREFIX, bytes(100)) as BodyStream).done;
    expect(connection.sent.map((frame) => frame.payload.length)).toEqual([PREFIX.length, 100, 0]);
    const longer = new StubConnection();
    await (sendBody(route(longer, 100, 32), ID, PREFIX, bytes(250)) as BodyStream).done;
    expect(longer.sent.map((frame) => frame.payload.length)).toEqual([PREFIX.length, 100, 100, 50, 0]);
  });

  it("cuts a large body into chunks of at most maxPayload that join back into it", async () => {
    const connection = new StubConnection();
    const body = bytes(1000);
    await (sendBody(route(connection), ID, PREFIX, body) as BodyStream).done;
    const [start, ...rest] = connection.sent;
    const end = rest.pop()!;
    expect(end.type).toBe(FrameType.END);
    for (const chunk of rest) {
      expect(chunk.type).toBe(FrameType.CHUNK);
      expect(chunk.payload.length).toBeLessThanOrEqual(100);
    }
    expect(Buffer.concat([start!.payload.subarray(PREFIX.length), ...rest.map((f) => f.payload)])).toEqual(body);
  });

  it("sends a stream of one small piece as a single whole frame, and a stream of several piece by piece", async () => {
    const one = new StubConnection();
    await (sendBody(route(one), ID, PREFIX, chunksOf("tiny")) as BodyStream).done;
    expect(one.sent).toEqual([{ type: FrameType.START, flags: FrameFlags.FINAL, payload: Buffer.concat([PREFIX, Buffer.from("tiny")]) }]);
    const several = new StubConnection();
    await (sendBody(route(several), ID, PREFIX, chunksOf("ab", "", "cd", bytes(250))) as BodyStream).done;
    expect(types(several)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.CHUNK, FrameType.CHUNK, FrameType.CHUNK, FrameType.END]);
    expect(Buffer.concat(several.sent.slice(1).map((f) => f.payload)).length).toBe(252);
  });

  it("sends an empty stream as one empty whole frame", async () => {
    const connection = new StubConnection();
    await (sendBody(route(connection), ID, PREFIX, chunksOf()) as BodyStream).done;
    expect(connection.sent).toEqual([{ type: FrameType.START, flags: FrameFlags.FINAL, payload: PREFIX }]);
  });

  it("uses the response frames for answers", async () => {
    const connection = new StubConnection();
    await (sendBody({ ...route(connection), frames: RESPONSE_BODY_FRAMES }, ID, PREFIX, bytes(300)) as BodyStream).done;
    expect(new Set(types(connection))).toEqual(new Set([FrameType.RESPONSE_START, FrameType.RESPONSE_CHUNK, FrameType.RESPONSE_END]));
    expect(sendBody({ ...route(connection), frames: RESPONSE_BODY_FRAMES }, ID, PREFIX, "ok")).toBe(true);
    expect(connection.sent.at(-1)).toMatchObject({ type: FrameType.RESPONSE, flags: FrameFlags.NONE });
  });

  it("streams under the requestId it was given even when the caller reuses that buffer at once", async () => {
    const connection = new StubConnection();
    const scratch = Buffer.from(ID);
    const stream = sendBody(route(connection), scratch, PREFIX, bytes(300)) as BodyStream;
    scratch.fill(0);
    await stream.done;
    expect(connection.sent.length).toBeGreaterThan(2);
    for (const frame of connection.sent) expect(sentIds.get(frame)).toEqual(ID);
  });

  it("waits for drained() while the connection is blocked", async () => {
    const connection = new StubConnection();
    connection.blocked = true;
    const stream = sendBody(route(connection), ID, PREFIX, bytes(500)) as BodyStream;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(types(connection)).toEqual([]);
    connection.drain();
    await stream.done;
    expect(types(connection).at(-1)).toBe(FrameType.END);
  });

  it("queues every frame of a body that fits the connection's room at once, before returning, so they share one write", () => {
    const connection = new StubConnection();
    sendBody(route(connection), ID, PREFIX, bytes(250));
    expect(types(connection)).toEqual([FrameType.START, FrameType.CHUNK, FrameType.CHUNK, FrameType.CHUNK, FrameType.END]);
  });

  // Issue 10, defect 4: a full queue failed the body with OVERLOADED; it must wait for room.
  it("waits for the connection to drain, instead of failing, when its write queue has no room for the next frame", async () => {
    const connection = new StubConnection();
    connection.queuedFrames = 10;
    connection.acceptFrames = 2;
    const stream = sendBody(route(connection), ID, PREFIX, bytes(500)) as BodyStream;
    let failed: unknown = null;
    stream.done.catch((error: unknown) => (failed = error));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(failed).toBeNull();
    expect(types(connection)).toEqual([FrameType.START, FrameType.CHUNK]);
    connection.acceptFrames = Number.POSITIVE_INFINITY;
    connection.drain();
    await stream.done;
    expect(types(connection)).toHaveLength(7);
    expect(types(connection).at(-1)).toBe(FrameType.END);
  });

  it("lets no more than STREAM_HIGH_WATER bytes wait on the connection before it waits for a drain, leaving the rest of the queue to others", async () => {
    const connection = new StubConnection();
    connection.queuedBytes = STREAM_HIGH_WATER;
    const stream = sendBody(route(connection), ID, PREFIX, bytes(500)) as BodyStream;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(connection.sent).toEqual([]);
    connection.drain();
    await stream.done;
    expect(types(connection).at(-1)).toBe(FrameType.END);
  });

  it("stop() while the connection is blocked sends no more of a byte body", async () => {
    const connection = new StubConnection();
    connection.blocked = true;
    const stream = sendBody(route(connection), ID, PREFIX, bytes(500)) as BodyStream;
    stream.stop();
    connection.drain();
    await stream.done;
    expect(types(connection)).toEqual([]);
  });

  it("stop() ends the stream at once and destroys a Readable source", async () => {
    const connection = new StubConnection();
    const source = new Readable({ read() {} });
    source.push(bytes(150));
    const stream = sendBody(route(connection), ID, PREFIX, source) as BodyStream;
    await new Promise((resolve) => setTimeout(resolve, 10));
    stream.stop();
    await stream.done;
    expect(source.destroyed).toBe(true);
    expect(types(connection)).not.toContain(FrameType.END);
  });

  it("rejects with OVERLOADED when the write queue refuses a frame with nothing else queued (it never will take it), DISCONNECTED when the connection closed", async () => {
    const full = new StubConnection();
    full.acceptFrames = 1;
    await expect((sendBody(route(full), ID, PREFIX, bytes(300)) as BodyStream).done).rejects.toMatchObject({ code: "OVERLOADED" });
    const closed = new StubConnection();
    closed.state = "closed";
    expect(sendBody(route(closed), ID, PREFIX, "x")).toBe(false);
    await expect((sendBody(route(closed), ID, PREFIX, bytes(300)) as BodyStream).done).rejects.toMatchObject({ code: "DISCONNECTED" });
  });

  it("rejects with the source's own error, and with INVALID_ARGUMENT for a chunk that is not bytes", async () => {
    async function* broken() {
      yield bytes(150);
      throw new Error("read failed");
    }
    await expect((sendBody(route(new StubConnection()), ID, PREFIX, broken()) as BodyStream).done).rejects.toThrow("read failed");
    const objects = chunksOf() as AsyncGenerator<unknown>;
    const weird = (async function* () {
      yield* objects;
      yield { not: "bytes" };
    })();
    await expect((sendBody(route(new StubConnection()), ID, PREFIX, weird as AsyncIterable<Uint8Array>) as BodyStream).done).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("sendBody on a flow-controlled connection (1.1)", () => {
  /** Body bytes sent so far (the first frame's after the prefix). */
  function bodyBytesSent(connection: StubConnection): number {
    return connection.sent.reduce((sum, frame, i) => sum + frame.payload.length - (i === 0 ? PREFIX.length : 0), 0);
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const credited = (connection: StubConnection, sendWindow: number) => ({ ...route(connection), sendWindow });

  it("sends no body byte past the credit, and the rest as grants arrive, joining back into the body", async () => {
    const connection = new StubConnection();
    const body = bytes(1000);
    const stream = sendBody(credited(connection, 250), ID, PREFIX, body) as BodyStream;
    await settle();
    expect(bodyBytesSent(connection)).toBe(250);
    expect(types(connection)).not.toContain(FrameType.END);
    expect(stream.grant(300)).toBe(true);
    await settle();
    expect(bodyBytesSent(connection)).toBe(550);
    stream.grant(450);
    await stream.done;
    expect(bodyBytesSent(connection)).toBe(1000);
    expect(types(connection).at(-1)).toBe(FrameType.END);
    expect(Buffer.concat(connection.sent.slice(1, -1).map((frame) => frame.payload))).toEqual(body);
  });

  it("counts a header block in the first frame's prefix as body against the credit, as the receiver does (bytes and streams alike)", async () => {
    const block = Buffer.alloc(10, 0xee); // what follows the request head: a header block
    const prefixed = Buffer.concat([PREFIX, block]);
    for (const body of [bytes(1000), chunksOf(bytes(30), bytes(970))]) {
      const connection = new StubConnection();
      const stream = sendBody(credited(connection, 250), ID, prefixed, body, FrameFlags.HEADERS) as BodyStream;
      await settle();
      // 250 of credit: 10 for the block, 240 of body (not 250: that would overrun the receiver by 10)
      const sent = connection.sent.reduce((sum, frame, i) => sum + frame.payload.length - (i === 0 ? PREFIX.length : 0), 0);
      expect(sent).toBe(250);
      stream.grant(800); // a source's end is seen only by reading on, which waits for some credit
      await stream.done;
      expect(types(connection).at(-1)).toBe(FrameType.END);
    }
  });

  it("reads a source no further than one piece past what its credit let it send", async () => {
    const connection = new StubConnection();
    let pulled = 0;
    const source = (async function* () {
      for (let i = 0; i < 100; i++) {
        pulled += 40;
        yield bytes(40, i);
      }
    })();
    const stream = sendBody(credited(connection, 200), ID, PREFIX, source) as BodyStream;
    let credit = 200;
    for (const grant of [0, 120, 80, 400]) {
      credit += grant;
      if (grant > 0) stream.grant(grant);
      await settle();
      const sent = bodyBytesSent(connection);
      expect(sent).toBe(credit);
      expect(pulled).toBeLessThanOrEqual(sent + 40);
    }
    stream.grant(4000);
    await stream.done;
    expect(pulled).toBe(4000);
    expect(bodyBytesSent(connection)).toBe(4000);
  });

  it("refuses a grant that takes the credit past 2^31 - 1 (the receiver broke flow control), and takes any grant on a 1.0 connection", () => {
    const stream = sendBody(credited(new StubConnection(), 200), ID, PREFIX, bytes(1000)) as BodyStream;
    // 200 bytes went at once: its credit is 0 now
    expect(stream.grant(2 ** 31 - 1)).toBe(true);
    expect(stream.grant(1)).toBe(false);
    stream.stop();
    const unlimited = sendBody(route(new StubConnection()), ID, PREFIX, bytes(1000)) as BodyStream;
    expect(unlimited.grant(2 ** 31)).toBe(true);
  });

  it("stop() while it waits for credit ends the stream and destroys a Readable source", async () => {
    const connection = new StubConnection();
    const source = Readable.from([bytes(90), bytes(90), bytes(90), bytes(90)]);
    const stream = sendBody(credited(connection, 100), ID, PREFIX, source) as BodyStream;
    await settle();
    stream.stop();
    await stream.done;
    expect(source.destroyed).toBe(true);
    expect(types(connection)).not.toContain(FrameType.END);
    expect(bodyBytesSent(connection)).toBeLessThanOrEqual(100);
  });
});
