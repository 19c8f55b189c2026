import { FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import { recordingLogger } from "./recording-logger.js";

const h = useBrokerHarness();
const remote = expect.stringMatching(/^127\.0\.0\.1:\d+$/);

describe("operator logs at warn", () => {
  it("log refused registrations with who they claimed to be, once per window, and how many more when the window ends", async () => {
    const { logger, warnings: lines } = recordingLogger();
    const server = await h.start({ authTokens: ["right"], logger });
    const channelId = newId();
    for (let i = 0; i < 30; i++) {
      const answer = await (await h.client(server)).registerRaw({ role: "provider", channelId, authToken: "wrong", clientName: "intruder" });
      expect(answer.type).toBe(FrameType.ERROR);
    }
    const refused = lines.filter((line) => line.message === "registration refused");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.fields).toMatchObject({ code: "UNAUTHORIZED", remote, clientName: "intruder", channel: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await server.stop();
    expect(lines.at(-1)!.message).toBe("registration refused (UNAUTHORIZED) … and 29 more in the last 10 s");
  });

  it("log OVERLOADED refusals, protocol violations and idle connections with the client and channel", async () => {
    const { logger, warnings: lines } = recordingLogger();
    const server = await h.start({ maxQueuedRequests: 0, readTimeout: 300, logger });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 1, clientName: "one-at-a-time" });
    const consumer = await h.consumer(server, channelId, { clientName: "eager" });
    consumer.request("first", 5000);
    await provider.nextOf(FrameType.START);
    const refusedId = consumer.request("second", 5000);
    expect((await consumer.nextError(refusedId)).code).toBe("OVERLOADED");
    expect(lines.find((line) => line.message === "request refused with OVERLOADED")!.fields).toMatchObject({
      remote,
      clientName: "eager",
      role: "consumer",
      channel: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    const rude = await h.client(server);
    rude.sendRaw(Buffer.from("definitely not a frame header, just noise on the wire"));
    await rude.waitClosed();
    await expect.poll(() => lines.find((line) => line.message === "closed a connection for a protocol violation")?.fields).toMatchObject({ code: "PROTOCOL_ERROR", remote });

    // the provider and consumer above go quiet: closed as idle after 300 ms
    await provider.waitClosed(5000);
    await expect.poll(() => lines.filter((line) => line.message === "closed an idle connection")).toHaveLength(1);
    expect(lines.find((line) => line.message === "closed an idle connection")!.fields).toMatchObject({ code: "IDLE_TIMEOUT", remote });
    await consumer.waitClosed(5000);
    await expect.poll(() => server.stats().idleConnectionsClosed).toBe(2);
    expect(lines.filter((line) => line.message === "closed an idle connection")).toHaveLength(1); // the second is counted, not written
  });

  it("log a consumer closed as a slow peer and count it", async () => {
    const { logger, warnings: lines } = recordingLogger();
    const server = await h.start({ writeTimeout: 300, maxWriteQueueBytes: 2 * 1024 * 1024, logger });
    const channelId = newId();
    const provider = await h.provider(server, channelId, { capacity: 10_000 });
    const sleeper = await h.consumer(server, channelId, { clientName: "sleepy" });
    sleeper.socket.pause();
    const body = Buffer.alloc(60 * 1024, 1);
    for (let round = 0; round < 100 && !sleeper.isClosed; round++) {
      for (let i = 0; i < 20; i++) sleeper.request("x", 10_000);
      for (let i = 0; i < 20; i++) {
        const start = await provider.nextOf(FrameType.START, undefined, 1000).catch(() => null);
        if (start === null) break;
        provider.respond(start, body);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await sleeper.waitClosed(5000);
    await expect.poll(() => server.stats().slowPeersClosed).toBe(1);
    expect(lines.find((line) => line.message === "closed a slow peer")!.fields).toMatchObject({ code: "SLOW_PEER", clientName: "sleepy", remote });
  });
});
