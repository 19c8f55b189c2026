import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { encodeRequestHead, FrameFlags, FrameType, newId } from "@switchyard/protocol";
import { MiB, patterned, patternMismatch, sha256 } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokerError, CancelledError, DisconnectedError, InvalidArgumentError, Provider, type RequestBody, TimeoutError } from "../src/index.js";
import { ProviderRig } from "./fixtures/provider-rig.js";

/** Reads a streamed body to its end: its sha256 (hex) and its size. */
async function hashOf(body: RequestBody): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** A promise and its resolve, apart (Promise.withResolvers is not in Node 20). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Resolves with what `body` throws when read (or "ended" if it ends). */
async function failureOf(body: RequestBody): Promise<unknown> {
  try {
    for await (const _ of body);
    return "ended";
  } catch (error) {
    return error;
  }
}

describe("a request body read as a stream (requestBody: 'stream')", () => {
  let rig: ProviderRig;
  /** A stream-mode provider whose handler waits for its body to fail: `reading` once it runs, `seen` what ctx.body failed with. */
  async function providerAwaitingBodyFailure(): Promise<{ reading: Promise<void>; seen: Promise<unknown> }> {
    const reading = deferred<void>();
    const seen = deferred<unknown>();
    await rig.provider(
      async (_payload, ctx) => {
        reading.resolve();
        seen.resolve(await failureOf(ctx.body));
        return "never sent";
      },
      { requestBody: "stream" },
    );
    return { reading: reading.promise, seen: seen.promise };
  }
  beforeEach(async () => {
    rig = await new ProviderRig().start();
  });
  afterEach(async () => {
    await rig.close();
  });

  it("hands the handler the body as it arrives, frame by frame, and an empty payload", async () => {
    const payloads: number[] = [];
    await rig.provider(
      async (payload, ctx) => {
        payloads.push(payload.length);
        const { sha256, bytes } = await hashOf(ctx.body);
        return `${bytes} ${sha256}`;
      },
      { requestBody: "stream" },
    );
    const consumer = await rig.consumer();
    const body = patterned(7, 5 * MiB + 123);
    const answer = await consumer.response(consumer.requestStreamed(body, 0, 300_000));
    expect(String(answer)).toBe(`${body.length} ${sha256(body)}`);
    expect(payloads).toEqual([0]);
  });

  it("runs the handler at the request's START, before its body has ended", async () => {
    const firstChunk = deferred<Buffer>();
    await rig.provider(
      async (_payload, ctx) => {
        const parts: Buffer[] = [];
        for await (const chunk of ctx.body) {
          if (parts.length === 0) firstChunk.resolve(chunk);
          parts.push(chunk);
        }
        return Buffer.concat(parts);
      },
      { requestBody: "stream" },
    );
    const consumer = await rig.consumer();
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(0), Buffer.from("first "));
    expect(String(await firstChunk.promise)).toBe("first "); // the END has not been sent yet
    consumer.send(FrameType.CHUNK, FrameFlags.NONE, id, Buffer.from("second"));
    consumer.send(FrameType.END, FrameFlags.NONE, id);
    expect(String(await consumer.response(id))).toBe("first second");
  });

  it("a handler that reads slowly gets every byte, in order", async () => {
    await rig.provider(
      async (_payload, ctx) => {
        const parts: Buffer[] = [];
        for await (const chunk of ctx.body) {
          parts.push(chunk);
          await delay(5);
        }
        return patternMismatch(Buffer.concat(parts)) ?? "intact";
      },
      { requestBody: "stream", maxRequestBytes: 64 * MiB },
    );
    const consumer = await rig.consumer();
    const answer = await consumer.response(consumer.requestStreamed(patterned(11, 3 * MiB), 0, 64 * 1024));
    expect(String(answer)).toBe("intact");
  });

  it("is not limited by maxRequestBytes when it is read as it arrives", async () => {
    await rig.provider(async (_payload, ctx) => String((await hashOf(ctx.body)).bytes), { requestBody: "stream", maxRequestBytes: 2 * MiB });
    const consumer = await rig.consumer();
    const body = patterned(3, 8 * MiB);
    expect(String(await consumer.response(consumer.requestStreamed(body, 0, 256 * 1024)))).toBe(String(8 * MiB));
  });

  it("fails with PAYLOAD_TOO_LARGE, the handler's body stream too, when more than maxRequestBytes waits unread", async () => {
    const seen = deferred<unknown>();
    await rig.provider(
      async (_payload, ctx) => {
        await delay(300); // reads nothing while the body arrives
        seen.resolve(await failureOf(ctx.body));
        return "served";
      },
      { requestBody: "stream", maxRequestBytes: MiB },
    );
    const consumer = await rig.consumer();
    const id = consumer.requestStreamed(patterned(5, 3 * MiB), 0, 256 * 1024);
    await expect(consumer.response(id)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    const error = await seen.promise;
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    // the provider serves on: a small body left unread for a while is within the limit
    expect(String(await consumer.response(consumer.requestStreamed(Buffer.from("small"), 0)))).toBe("served");
  });

  it("a consumer's CANCEL mid-body errors the body stream with CancelledError", async () => {
    const reading = deferred<void>();
    const seen = deferred<unknown>();
    await rig.provider(
      async (_payload, ctx) => {
        try {
          for await (const _ of ctx.body) reading.resolve();
          seen.resolve("ended");
        } catch (error) {
          seen.resolve(error);
        }
        return "never sent";
      },
      { requestBody: "stream" },
    );
    const consumer = await rig.consumer();
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(0), patterned(1, 1000));
    await reading.promise;
    consumer.send(FrameType.CANCEL, FrameFlags.NONE, id);
    const error = await seen.promise;
    expect(error).toBeInstanceOf(CancelledError);
    expect(error).toMatchObject({ code: "CANCELLED" });
    await consumer.expectNothing((frame) => frame.requestId.equals(id)); // nothing is answered after a cancel
  });

  it("a request whose deadline passes mid-body (no CANCEL came) errors the body stream with TimeoutError", async () => {
    const { reading, seen } = await providerAwaitingBodyFailure();
    const consumer = await rig.consumer();
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(100), patterned(1, 1000)); // 100 ms, and no END
    await reading;
    // the fake broker sends no CANCEL at the deadline: the provider's own safety net fires (1–1.25 s later)
    const error = await seen;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: "TIMEOUT" });
  });

  it("a broker connection lost mid-body errors the body stream with DisconnectedError", async () => {
    const { reading, seen } = await providerAwaitingBodyFailure();
    const consumer = await rig.consumer();
    consumer.send(FrameType.START, FrameFlags.NONE, newId(), encodeRequestHead(0), patterned(1, 1000));
    await reading;
    await rig.broker.crash();
    const error = await seen;
    expect(error).toBeInstanceOf(DisconnectedError);
    expect(error).toMatchObject({ code: "DISCONNECTED" });
  });

  it("a cancelled request whose handler never read its body disturbs nothing (no 'error' without a listener)", async () => {
    const started = deferred<AbortSignal>();
    const provider = await rig.provider(
      (_payload, ctx) =>
        new Promise<string>((resolve) => {
          started.resolve(ctx.signal);
          ctx.signal.addEventListener("abort", () => resolve("late"));
        }),
      { requestBody: "stream" },
    );
    const consumer = await rig.consumer();
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(0), patterned(1, 1000));
    const signal = await started.promise;
    consumer.send(FrameType.CANCEL, FrameFlags.NONE, id);
    await vi.waitFor(() => expect(signal.aborted).toBe(true));
    expect(signal.reason).toBeInstanceOf(CancelledError);
    expect(provider.inFlight).toBe(0);
    await delay(50); // an unheard 'error' would surface as an uncaught exception and fail the run
    expect(provider.state).toBe("open");
  });

  it("a handler that answers without reading its body: the answer goes out, the rest of the body is dropped", async () => {
    const bodies: RequestBody[] = [];
    const provider = await rig.provider(
      (_payload, ctx) => {
        bodies.push(ctx.body);
        return "answered early";
      },
      { requestBody: "stream" },
    );
    const consumer = await rig.consumer();
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(0), patterned(2, 1000));
    expect(String(await consumer.response(id))).toBe("answered early");
    expect(provider.inFlight).toBe(0);
    expect(bodies[0]!.destroyed).toBe(true);
    // the rest of that body arrives after the answer: ignored, no error, nothing sent
    consumer.send(FrameType.CHUNK, FrameFlags.NONE, id, patterned(3, 100_000));
    consumer.send(FrameType.END, FrameFlags.NONE, id);
    await consumer.expectNothing((frame) => frame.requestId.equals(id));
    expect(String(await consumer.response(consumer.requestStreamed(Buffer.from("next"), 0)))).toBe("answered early");
  });

  it("answering with the body itself streams it back as it arrives (an echo)", async () => {
    await rig.provider((_payload, ctx) => ctx.body, { requestBody: "stream" });
    const consumer = await rig.consumer();
    const body = patterned(9, 6 * MiB + 5);
    const answer = await consumer.response(consumer.requestStreamed(body, 0, 200_000));
    expect(answer.length).toBe(body.length);
    expect(answer.equals(body)).toBe(true);
  });

  it("a body of one frame (START|FINAL) streams as one chunk, then ends", async () => {
    await rig.provider(async (_payload, ctx) => `${(await hashOf(ctx.body)).bytes}`, { requestBody: "stream" });
    const consumer = await rig.consumer();
    expect(String(await consumer.call("twelve bytes"))).toBe("12");
    expect(String(await consumer.call(""))).toBe("0");
  });

  it("in buffer mode (the default) ctx.body yields the whole payload as one chunk", async () => {
    await rig.provider(async (payload, ctx) => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.body) chunks.push(chunk);
      return `${payload.length} ${chunks.length} ${Buffer.concat(chunks).equals(payload)}`;
    });
    const consumer = await rig.consumer();
    expect(String(await consumer.response(consumer.requestStreamed(patterned(4, 2 * MiB), 0)))).toBe(`${2 * MiB} 1 true`);
  });

  it("a function chooses per request when it begins, from its context", async () => {
    const modes: string[] = [];
    await rig.provider(
      (payload, ctx) => {
        modes.push(payload.length > 0 ? "buffer" : "stream");
        return ctx.body;
      },
      { requestBody: (ctx) => (ctx.timeoutMs > 5000 ? "stream" : "buffer") },
    );
    const consumer = await rig.consumer();
    expect(String(await consumer.call("short deadline: buffered", 1000))).toBe("short deadline: buffered");
    expect(String(await consumer.call("long deadline: streamed", 60_000))).toBe("long deadline: streamed");
    expect(modes).toEqual(["buffer", "stream"]);
  });

  it("a requestBody function that throws, or answers neither mode, fails that request with HANDLER_ERROR", async () => {
    let answer: unknown = "stream";
    await rig.provider((_payload, ctx) => ctx.body, {
      requestBody: () => {
        if (answer === "throw") throw new Error("cannot decide");
        return answer as "stream";
      },
    });
    const consumer = await rig.consumer();
    answer = "throw";
    await expect(consumer.call("x")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: "cannot decide" });
    answer = "chunks";
    await expect(consumer.call("x")).rejects.toMatchObject({ code: "HANDLER_ERROR", message: expect.stringContaining('"buffer" or "stream"') });
    answer = "stream";
    expect(String(await consumer.call("fine"))).toBe("fine");
  });

  it("refuses a requestBody that is neither mode nor function at connect, naming the option", async () => {
    await expect(Provider.connect(rig.broker.address, rig.channelId, () => "", { requestBody: "lines" as "stream" })).rejects.toThrow(InvalidArgumentError);
    await expect(Provider.connect(rig.broker.address, rig.channelId, () => "", { requestBody: "lines" as "stream" })).rejects.toThrow(/requestBody/);
  });

  it("provider.requests() yields a streamed request at its START, its body in req.body", async () => {
    const provider = await rig.handlerlessProvider({ requestBody: "stream" });
    const consumer = await rig.consumer();
    const serving = (async () => {
      for await (const req of provider.requests()) {
        const { sha256, bytes } = await hashOf(req.body);
        await req.respond(`${req.payload.length} ${bytes} ${sha256}`);
      }
    })();
    const body = patterned(21, 3 * MiB + 1);
    const id = newId();
    consumer.send(FrameType.START, FrameFlags.NONE, id, encodeRequestHead(0), body.subarray(0, 1000));
    await vi.waitFor(() => expect(provider.inFlight).toBe(1));
    for (let at = 1000; at < body.length; at += 500_000) consumer.send(FrameType.CHUNK, FrameFlags.NONE, id, body.subarray(at, at + 500_000));
    consumer.send(FrameType.END, FrameFlags.NONE, id);
    expect(String(await consumer.response(id))).toBe(`0 ${body.length} ${sha256(body)}`);
    await provider.close();
    await serving;
  });
});
