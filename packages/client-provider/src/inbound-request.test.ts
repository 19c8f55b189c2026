import {
  BrokerError,
  decodeErrorBody,
  FrameType,
  newId,
  newIdString,
  idToBytes,
  idToString,
  ROUTING_HEADER_SIZE,
} from "@switchyard/protocol";
import { type ConnectionContext, RESPONSE_BODY_FRAMES } from "@switchyard/transport/internal";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InboundRequest } from "./inbound-request.js";
import { CancelledError, LATEST_VERSION, MIN_STREAM_WINDOW, NO_HEADERS } from "@switchyard/protocol";

interface Sent {
  type: number;
  payload: Buffer;
}

/** Stands in for the provider's connection: records frames and errors. */
class StubConnection {
  readonly sent: Sent[] = [];
  state = "open";
  blocked = false;
  sendFrame(type: number, flags: number, id: Uint8Array, ...parts: Uint8Array[]): boolean {
    return this.sendFrameParts(type, flags, id, parts);
  }
  sendFrameParts(type: number, _flags: number, _id: Uint8Array, parts: readonly Uint8Array[]): boolean {
    this.sent.push({ type, payload: Buffer.concat(parts) });
    return true;
  }
  sendError(_id: Uint8Array, error: { wireCode: number; message: string }, prefix: Uint8Array): boolean {
    const body = Buffer.alloc(2);
    body.writeUInt16BE(error.wireCode);
    this.sent.push({ type: FrameType.ERROR, payload: Buffer.concat([prefix, body, Buffer.from(error.message)]) });
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  /** CREDIT increments granted, in order. */
  readonly credits: number[] = [];
  sendCredit(_id: Uint8Array, increment: number): boolean {
    this.credits.push(increment);
    return true;
  }
}

const clientId = newIdString();
const channelId = newIdString();
const routing = Buffer.concat([idToBytes(clientId), idToBytes(channelId)]);

interface Setup {
  maxPayload: number;
  timeoutMs: number;
  maxRequestBytes: number;
  /** The window this side grants per body (flow control); null: a 1.0 connection. */
  receiveWindow: number | null;
}

function request(overrides: Partial<Setup> = {}) {
  const { maxPayload, timeoutMs, maxRequestBytes, receiveWindow }: Setup = { maxPayload: 1024, timeoutMs: 0, maxRequestBytes: 100, receiveWindow: null, ...overrides };
  const connection = new StubConnection();
  const finished = vi.fn();
  const requestId = newId();
  const route = { connection: connection as unknown as ConnectionContext, frames: RESPONSE_BODY_FRAMES, maxPayload, receiveWindow };
  const owner = { logger: { warn: () => {}, debug: () => {} }, maxRequestBytes, finished, protocolVersion: LATEST_VERSION };
  const req = new InboundRequest(owner, route, requestId, routing, timeoutMs, NO_HEADERS);
  return { req, connection, finished, requestId };
}

function errorOf(sent: Sent): BrokerError {
  expect(sent.type).toBe(FrameType.ERROR);
  expect(sent.payload.subarray(0, ROUTING_HEADER_SIZE)).toEqual(routing);
  return decodeErrorBody(sent.payload.subarray(ROUTING_HEADER_SIZE));
}

describe("InboundRequest", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("assembles START and CHUNK bytes into one payload when the body completes", () => {
    const { req } = request();
    req.receive(Buffer.from("ab"));
    req.receive(Buffer.from("cd"));
    expect(req.complete()).toBe(true);
    expect(req.payload.toString()).toBe("abcd");
    expect(req.complete()).toBe(false);
  });

  it("answers PAYLOAD_TOO_LARGE, with the routing header, once the body passes maxRequestBytes, and is then over", () => {
    const { req, connection, finished } = request({ maxRequestBytes: 5 });
    req.receive(Buffer.from("abc"));
    req.receive(Buffer.from("def"));
    expect(errorOf(connection.sent[0]!).code).toBe("PAYLOAD_TOO_LARGE");
    expect(finished).toHaveBeenCalledTimes(1);
    req.receive(Buffer.from("g"));
    expect(req.complete()).toBe(false);
    expect(connection.sent).toHaveLength(1);
  });

  it("answers once: a RESPONSE with the routing header in front; later respond() and fail() do nothing", async () => {
    const { req, connection, finished } = request();
    req.complete();
    await req.respond("ok");
    await req.respond("again");
    await req.fail(new Error("too late"));
    expect(connection.sent).toEqual([{ type: FrameType.RESPONSE, payload: Buffer.concat([routing, Buffer.from("ok")]) }]);
    expect(finished).toHaveBeenCalledTimes(1);
  });

  it("fails with HANDLER_ERROR and the error's message, or a BrokerError's own code", async () => {
    const plain = request();
    plain.req.complete();
    await plain.req.fail(new Error("broken"));
    expect(errorOf(plain.connection.sent[0]!)).toMatchObject({ code: "HANDLER_ERROR", message: "broken" });
    const typed = request();
    typed.req.complete();
    await typed.req.fail(new BrokerError("NO_PROVIDER", "downstream missing"));
    expect(errorOf(typed.connection.sent[0]!)).toMatchObject({ code: "NO_PROVIDER", message: "downstream missing" });
    const thrownString = request();
    thrownString.req.complete();
    await thrownString.req.fail("just a string");
    expect(errorOf(thrownString.connection.sent[0]!)).toMatchObject({ code: "HANDLER_ERROR", message: "just a string" });
  });

  it("clips a huge error message so the ERROR frame stays far below MAX_PAYLOAD", async () => {
    const { req, connection } = request();
    req.complete();
    await req.fail(new Error("x".repeat(2_000_000)));
    expect(connection.sent[0]!.payload.length).toBeLessThan(64 * 1024);
  });

  it("cancel aborts the signal with its reason and nothing is sent afterwards", async () => {
    const { req, connection, finished } = request();
    req.complete();
    const signal = req.signal;
    expect(signal.aborted).toBe(false);
    req.cancel(new CancelledError("consumer left"));
    expect(req.signal).toBe(signal);
    expect(req.signal.aborted).toBe(true);
    expect(req.signal.reason).toMatchObject({ code: "CANCELLED" });
    await req.respond("late");
    await req.fail(new Error("late"));
    expect(connection.sent).toEqual([]);
    expect(finished).toHaveBeenCalledTimes(1);
  });

  it("takes a whole body from one frame as it is, within maxRequestBytes, and refuses a larger one", () => {
    const { req } = request({ maxRequestBytes: 4 });
    const body = Buffer.from("abcd");
    expect(req.receiveWhole(body)).toBe(true);
    expect(req.payload).toBe(body);
    expect(req.receiveWhole(body)).toBe(false);
    const big = request({ maxRequestBytes: 4 });
    expect(big.req.receiveWhole(Buffer.from("abcde"))).toBe(false);
    expect(errorOf(big.connection.sent[0]!).code).toBe("PAYLOAD_TOO_LARGE");
    expect(big.finished).toHaveBeenCalledTimes(1);
  });

  it("a signal first read after the request was cancelled is already aborted with the reason", () => {
    const { req } = request();
    expect(req.receiveWhole(Buffer.from("x"))).toBe(true);
    req.cancel(new CancelledError("consumer left"));
    expect(req.cancelled).toBe(true);
    expect(req.signal.aborted).toBe(true);
    expect(req.signal.reason).toMatchObject({ code: "CANCELLED" });
  });

  it("streams a large answer as RESPONSE_START with the routing header, chunks and RESPONSE_END", async () => {
    const { req, connection } = request({ maxPayload: 100 });
    req.complete();
    await req.respond(Buffer.alloc(250, 1));
    expect(connection.sent.map((s) => s.type)).toEqual([
      FrameType.RESPONSE_START,
      FrameType.RESPONSE_CHUNK,
      FrameType.RESPONSE_CHUNK,
      FrameType.RESPONSE_CHUNK,
      FrameType.RESPONSE_END,
    ]);
    expect(connection.sent[0]!.payload).toEqual(routing);
    expect(Buffer.concat(connection.sent.slice(1).map((s) => s.payload))).toEqual(Buffer.alloc(250, 1));
  });

  it("tells the time left before its deadline, and 0 when the broker gave none", () => {
    const { req } = request({ timeoutMs: 1000 });
    expect(req.timeoutMs).toBe(1000);
    vi.advanceTimersByTime(400);
    expect(req.timeoutMs).toBe(600);
    vi.advanceTimersByTime(5000);
    expect(req.timeoutMs).toBe(0);
    expect(request().req.timeoutMs).toBe(0);
  });

  it("names the request, its consumer and its channel as UUID strings", () => {
    const { req, requestId } = request();
    expect(req.requestId).toBe(idToString(requestId));
    expect(req.clientId).toBe(clientId);
    expect(req.channelId).toBe(channelId);
  });
  describe("with flow control (a 1.1 connection: the route has a receiveWindow)", () => {
    const window = MIN_STREAM_WINDOW;

    it("a streamed body's credit goes back as the handler reads it, not as it arrives", async () => {
      const { req, connection } = request({ receiveWindow: window, maxRequestBytes: 64 * window });
      req.streamBody();
      const quarter = window / 4;
      for (let i = 0; i < 4; i++) req.receive(Buffer.alloc(quarter)); // the window is full
      expect(connection.credits).toEqual([]); // nothing read yet: nothing granted
      expect(req.body.read()?.length).toBe(quarter);
      expect(connection.credits).toEqual([]); // a quarter read: not yet worth a CREDIT
      expect(req.body.read()?.length).toBe(quarter);
      expect(connection.credits).toEqual([2 * quarter]); // half a window read: granted back
      req.receive(Buffer.alloc(2 * quarter)); // within the credit granted
      expect(connection.sent).toEqual([]);
      for (let i = 0; i < 3; i++) req.body.read(); // the rest: six quarters read in all, all granted back
      expect(connection.credits).toEqual([2 * quarter, 2 * quarter, 2 * quarter]);
    });

    it("a sender that goes past the credit fails the request with FLOW_CONTROL_ERROR, its body stream too", async () => {
      const { req, connection, finished } = request({ receiveWindow: window, maxRequestBytes: 64 * window });
      req.streamBody();
      const seen: unknown[] = [];
      req.body.on("error", (error) => seen.push(error));
      req.receive(Buffer.alloc(window));
      req.receive(Buffer.alloc(1));
      expect(errorOf(connection.sent[0]!).code).toBe("FLOW_CONTROL_ERROR");
      expect(finished).toHaveBeenCalledTimes(1);
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      expect(seen[0]).toMatchObject({ code: "FLOW_CONTROL_ERROR" });
    });

    it("a buffered body's credit goes back as it is assembled (maxRequestBytes bounds it), and none after it ended", () => {
      const { req, connection } = request({ receiveWindow: window, maxRequestBytes: 4 * window });
      req.receive(Buffer.alloc(window / 2));
      expect(connection.credits).toEqual([window / 2]);
      req.receive(Buffer.alloc(window / 2));
      expect(connection.credits).toEqual([window / 2, window / 2]);
      expect(req.complete()).toBe(true);
      expect(req.payload.length).toBe(window);
    });

    it("bytes that arrive after the handler destroyed ctx.body are dropped and granted back", () => {
      const { req, connection } = request({ receiveWindow: window, maxRequestBytes: 64 * window });
      req.streamBody();
      req.body.destroy();
      req.receive(Buffer.alloc(window / 2));
      expect(connection.credits).toEqual([window / 2]);
      expect(connection.sent).toEqual([]);
    });

    it("counts a START's header block against the credit and grants it back with the body read", () => {
      const { req, connection } = request({ receiveWindow: window, maxRequestBytes: 64 * window });
      req.streamBody();
      req.receivedHeaderBlock(100);
      req.receive(Buffer.alloc(window - 100)); // exactly the window, with the block
      expect(connection.sent).toEqual([]);
      expect(req.body.read()?.length).toBe(window - 100);
      expect(connection.credits).toEqual([window]);
    });

    it("on a 1.0 connection nothing is counted or granted", () => {
      const { req, connection } = request({ maxRequestBytes: 64 * window });
      req.streamBody();
      req.receive(Buffer.alloc(2 * window));
      expect(req.body.read()?.length).toBe(2 * window);
      expect(connection.credits).toEqual([]);
      expect(connection.sent).toEqual([]);
    });
  });
});
