import { BrokerError, CONNECTION_ID, encodeFrame, FrameFlags, FrameType, HEADER_SIZE, MAX_PAYLOAD, ProtocolError, writeFrameHeader } from "@switchyard/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Rig } from "./fixtures/clients.js";

describe("consumer edge cases", () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await new Rig().start();
  });
  afterEach(async () => {
    rig.broker.interceptConsumer = null;
    await rig.close();
  });

  it("late and duplicate frames for a settled request are ignored, and the next request still works", async () => {
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type !== FrameType.START) return true;
      // One outcome, then everything a confused broker might add.
      const id = Buffer.from(frame.requestId);
      connection.sendFrame(FrameType.RESPONSE, 0, id, Buffer.from(`first:${frame.payload.subarray(4)}`));
      // Errors jump the write queue, so the stragglers go a tick later to stay behind the answer.
      setImmediate(() => {
        connection.sendFrame(FrameType.RESPONSE, 0, id, Buffer.from("second"));
        connection.sendFrame(FrameType.RESPONSE_CHUNK, 0, id, Buffer.from("chunk"));
        connection.sendFrame(FrameType.RESPONSE_END, 0, id);
        connection.sendError(id, new BrokerError("TIMEOUT", "late"));
      });
      return true;
    };
    const consumer = await rig.consumer();
    expect(String(await consumer.send("a"))).toBe("first:a");
    expect(String(await consumer.send("b"))).toBe("first:b");
    expect(consumer.inFlight).toBe(0);
  });

  it("a response that starts, streams and ends is assembled in order", async () => {
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type !== FrameType.START) return true;
      connection.sendFrame(FrameType.RESPONSE_START, 0, frame.requestId);
      for (const part of ["a", "b", "c"]) connection.sendFrame(FrameType.RESPONSE_CHUNK, 0, frame.requestId, Buffer.from(part));
      connection.sendFrame(FrameType.RESPONSE_END, 0, frame.requestId);
      return true;
    };
    const consumer = await rig.consumer();
    expect(String(await consumer.send("x"))).toBe("abc");
  });

  it("a 1.1 broker that sends response bytes past the consumer's credit fails that request with FLOW_CONTROL_ERROR and CANCEL; the next request works", async () => {
    rig.broker.ackVersion = { major: 1, minor: 1 };
    const cancels: Buffer[] = [];
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type === FrameType.CANCEL) cancels.push(Buffer.from(frame.requestId));
      if (frame.type !== FrameType.START) return true;
      const id = Buffer.from(frame.requestId);
      if (String(frame.payload.subarray(4)) !== "greedy") {
        connection.sendFrame(FrameType.RESPONSE, 0, id, Buffer.from("ok"));
        return true;
      }
      // the consumer's window is 4 MiB, and a reader that takes nothing grants nothing more
      connection.sendFrame(FrameType.RESPONSE_START, 0, id);
      for (let i = 0; i < 4; i++) connection.sendFrame(FrameType.RESPONSE_CHUNK, 0, id, Buffer.alloc(MAX_PAYLOAD));
      connection.sendFrame(FrameType.RESPONSE_CHUNK, 0, id, Buffer.alloc(1));
      return true;
    };
    const consumer = await rig.consumer();
    expect(consumer.protocolVersion).toEqual({ major: 1, minor: 1 });
    const reader = consumer.stream("greedy");
    await vi.waitFor(() => expect(cancels).toHaveLength(1));
    let received = 0;
    const error = await (async () => {
      for await (const chunk of reader) received += chunk.length;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "FLOW_CONTROL_ERROR" });
    expect(received).toBe(4 * MAX_PAYLOAD);
    expect(String(await consumer.send("next"))).toBe("ok");
  });

  it("the broker's TIMEOUT, SHUTTING_DOWN or OVERLOADED error rejects the request with that code, as the class that owns it", async () => {
    const codes = ["TIMEOUT", "SHUTTING_DOWN", "OVERLOADED"] as const;
    let next = 0;
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type === FrameType.START) connection.sendError(frame.requestId, new BrokerError(codes[next++]!, "from broker"));
      return true;
    };
    const consumer = await rig.consumer();
    const owners = { TIMEOUT: "TimeoutError", SHUTTING_DOWN: "BrokerError", OVERLOADED: "BrokerError" };
    for (const code of codes) {
      const error = await consumer.send("x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerError);
      expect(error).toMatchObject({ name: owners[code], code, message: "from broker" });
    }
  });

  it("ERROR(PROTOCOL_ERROR) on requestId zero fails requests in flight at once with DISCONNECTED, caused by it", async () => {
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type === FrameType.START && (frame.flags & FrameFlags.FINAL) !== 0) {
        connection.sendError(CONNECTION_ID, new BrokerError("PROTOCOL_ERROR", "you sent garbage"));
      }
      return true;
    };
    const consumer = await rig.consumer();
    const error = await consumer.send("x", 20_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DISCONNECTED", cause: { code: "PROTOCOL_ERROR", message: "you sent garbage" } });
    await vi.waitFor(() => expect(consumer.state).toBe("open"));
  });

  it("bytes from the broker that no frame starts with fail requests in flight with DISCONNECTED, caused by PROTOCOL_ERROR, and it reconnects", async () => {
    rig.broker.interceptConsumer = (frame, _connection, socket) => {
      if (frame.type === FrameType.START) socket.write(Buffer.alloc(HEADER_SIZE, 0xee)); // version 0xee: no frame of ours
      return true;
    };
    const consumer = await rig.consumer();
    const error = await consumer.send("x", 20_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DISCONNECTED" });
    expect((error as Error).cause).toBeInstanceOf(ProtocolError);
    await vi.waitFor(() => expect(consumer.state).toBe("open"));
  });

  it("a broker that dies halfway through a large response fails that request with DISCONNECTED, and the consumer reconnects and goes on", async () => {
    let cut = true;
    rig.broker.interceptConsumer = (frame, _connection, socket) => {
      if (frame.type !== FrameType.START) return true;
      if (!cut) return false; // routed to the provider as usual
      cut = false;
      // a RESPONSE_CHUNK that declares a whole frame and sends a tenth of it: the consumer is reading it in place
      const head = Buffer.alloc(HEADER_SIZE);
      writeFrameHeader(head, 0, FrameType.RESPONSE_CHUNK, 0, frame.requestId, MAX_PAYLOAD);
      for (const part of encodeFrame(FrameType.RESPONSE_START, 0, frame.requestId)) socket.write(part);
      socket.write(Buffer.concat([head, Buffer.alloc(MAX_PAYLOAD / 10, 1)]));
      setTimeout(() => socket.destroy(), 50);
      return true;
    };
    await rig.provider(async (payload) => `re: ${payload}`);
    const consumer = await rig.consumer();
    await expect(consumer.send("first", 20_000)).rejects.toMatchObject({ code: "DISCONNECTED" });
    await vi.waitFor(() => expect(consumer.state).toBe("open"));
    expect((await consumer.send("second", 20_000)).toString()).toBe("re: second");
  });

  it("a body that is neither text, bytes nor an AsyncIterable is refused with INVALID_ARGUMENT before anything is sent", async () => {
    const consumer = await rig.consumer();
    for (const bad of [123, null, { not: "a body" }]) {
      await expect(consumer.send(bad as unknown as string)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(consumer.inFlight).toBe(0);
    expect(rig.broker.frames("consumer", FrameType.START)).toHaveLength(0);
    expect(rig.broker.frames("consumer", FrameType.CANCEL)).toHaveLength(0);
  });

  it("a streamed body stops being read once the request has already failed", async () => {
    rig.broker.interceptConsumer = (frame, connection) => {
      if (frame.type === FrameType.START) connection.sendError(frame.requestId, new BrokerError("NO_PROVIDER", "nobody"));
      return true;
    };
    const consumer = await rig.consumer();
    let pulled = 0;
    async function* endless() {
      while (true) {
        pulled++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield Buffer.alloc(64 * 1024);
      }
    }
    await expect(consumer.send(endless())).rejects.toMatchObject({ code: "NO_PROVIDER" });
    const after = pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBeLessThanOrEqual(after + 1);
  });
});
