import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { CancelledError, Provider } from "@switchyard/client-provider";
import { digestOf, inPieces, MiB, patterned, sha256 } from "@switchyard/testing";
import { describe, expect, it, vi } from "vitest";
import { channel, useE2E } from "./fixtures/harness.js";

describe("request bodies read as streams, through a broker process", () => {
  const e2e = useE2E();

  it("a body streamed by consumer.send(readable) is hashed by the provider as it arrives, byte-exact", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, async (_payload, ctx) => digestOf(ctx.body), { requestBody: "stream" });
    const consumer = await e2e.consumer(address, id);
    const body = patterned(42, 24 * MiB + 7);
    const answer = await consumer.send(Readable.from(inPieces(body, 700_001)), 60_000);
    expect(String(answer)).toBe(`${body.length} ${sha256(body)}`);
  });

  it("the provider decides per request from the consumer's headers: octet streams are streamed, the rest buffered", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const modes: string[] = [];
    await e2e.provider(
      address,
      id,
      async (payload, ctx) => {
        modes.push(payload.length === 0 ? "stream" : "buffer");
        return digestOf(ctx.body);
      },
      { requestBody: (ctx) => (ctx.headers["content-type"] === "application/octet-stream" ? "stream" : "buffer") },
    );
    const consumer = await e2e.consumer(address, id);
    const body = patterned(5, 3 * MiB);
    const expected = `${body.length} ${sha256(body)}`;
    expect(String(await consumer.send(body, { timeout: 30_000, headers: { "content-type": "application/octet-stream" } }))).toBe(expected);
    expect(String(await consumer.send(body, { timeout: 30_000, headers: { "content-type": "application/json" } }))).toBe(expected);
    expect(modes).toEqual(["stream", "buffer"]);
  });

  it("provider.requests() serves streamed bodies too", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const loop = await Provider.connect(address, id, { requestBody: "stream", closeTimeout: 500 });
    const serving = (async () => {
      for await (const req of loop.requests()) await req.respond(await digestOf(req.body));
    })();
    try {
      const consumer = await e2e.consumer(address, id);
      const bodies = [patterned(1, 5 * MiB), patterned(2, 100), patterned(3, 2 * MiB + 3)];
      const answers = await Promise.all(bodies.map((body) => consumer.send(Readable.from(inPieces(body, 256 * 1024)), 30_000)));
      expect(answers.map(String)).toEqual(bodies.map((body) => `${body.length} ${sha256(body)}`));
    } finally {
      await loop.close();
      await serving;
    }
  });

  it("a consumer that aborts mid-upload errors the provider's body stream with CancelledError; the provider serves on", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    let startedReading!: () => void;
    const started = new Promise<void>((resolve) => {
      startedReading = resolve;
    });
    const failures: unknown[] = [];
    const provider = await e2e.provider(
      address,
      id,
      async (_payload, ctx) => {
        try {
          for await (const _ of ctx.body) startedReading();
          return "whole";
        } catch (error) {
          failures.push(error);
          return "never sent";
        }
      },
      { requestBody: "stream" },
    );
    const consumer = await e2e.consumer(address, id);
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        yield Buffer.alloc(64 * 1024, 1);
        await delay(5);
      }
    }
    const controller = new AbortController();
    const sent = consumer.send(endless(), { timeout: 30_000, signal: controller.signal });
    await started;
    controller.abort();
    await expect(sent).rejects.toMatchObject({ code: "ABORTED" });
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]).toBeInstanceOf(CancelledError);
    await vi.waitFor(() => expect(provider.inFlight).toBe(0));
    expect(String(await consumer.send("small", 10_000))).toBe("whole");
  });

  it("a handler that answers without reading the body ends the request; the consumer stops uploading", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    const provider = await e2e.provider(address, id, () => "not interested", { requestBody: "stream" });
    const consumer = await e2e.consumer(address, id);
    let pulled = 0;
    let released = false;
    async function* endless(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          pulled++;
          yield Buffer.alloc(256 * 1024, 2);
          await delay(1);
        }
      } finally {
        released = true;
      }
    }
    expect(String(await consumer.send(endless(), 30_000))).toBe("not interested");
    await vi.waitFor(() => expect(released).toBe(true)); // the upload stopped with the answer
    const pulledAtRelease = pulled;
    await delay(50);
    expect(pulled).toBe(pulledAtRelease);
    expect(provider.inFlight).toBe(0);
    expect(String(await consumer.send("again", 10_000))).toBe("not interested");
  });

  it("an echo: the handler answers with its body stream, consumer.stream() reads it back byte-exact", async () => {
    const { address } = await e2e.cliBroker();
    const id = channel();
    await e2e.provider(address, id, (_payload, ctx) => ctx.body, { requestBody: "stream" });
    const consumer = await e2e.consumer(address, id);
    const body = patterned(77, 16 * MiB + 1);
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of consumer.stream(Readable.from(inPieces(body, 1 << 20)), 60_000)) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    expect(bytes).toBe(body.length);
    expect(hash.digest("hex")).toBe(sha256(body));
  });
});
