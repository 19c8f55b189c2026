import { CONNECTION_ID, decodeErrorBody, type Frame, FrameType, newId, REQUEST_HEAD_SIZE, ROUTING_HEADER_SIZE } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import type { RawClient } from "@switchyard/testing";

const h = useBrokerHarness();

/** Answers every START `provider` receives with "<name>: <body>", until its socket closes. */
function serve(provider: RawClient, name: string): void {
  provider.answerPings = true;
  void (async () => {
    while (!provider.isClosed) {
      const start = await provider.nextOf(FrameType.START, undefined, 60_000).catch(() => null);
      if (start === null) return;
      provider.respond(start, `${name}: ${start.payload.subarray(ROUTING_HEADER_SIZE + REQUEST_HEAD_SIZE).toString()}`);
    }
  })();
}

describe("liveness: the read timeout counts only what is received", () => {
  it("evicts a frozen provider that keeps being routed requests at the read timeout, and its channel's requests then go to the live provider", async () => {
    const readTimeout = 1000;
    const server = await h.start({ readTimeout });
    const channelId = newId();
    const frozen = await h.provider(server, channelId, { capacity: 1000 }); // registers, then never sends a byte again
    const frozenSince = performance.now();
    const live = await h.provider(server, channelId);
    serve(live, "live");
    const consumer = await h.consumer(server, channelId);
    consumer.answerPings = true;

    // A steady stream of requests, each with a short deadline, for as long as the frozen one lives
    // and a while after: the broker keeps writing STARTs and CANCELs to the frozen provider.
    const sent: Buffer[] = [];
    let afterEviction: Buffer[] = [];
    const sender = setInterval(() => {
      const id = consumer.request(`#${sent.length}`, 250);
      sent.push(id);
      if (frozen.isClosed) afterEviction.push(id);
    }, 25);
    try {
      await frozen.waitClosed(readTimeout * 4);
      const evictedAfter = performance.now() - frozenSince;
      expect(evictedAfter).toBeGreaterThanOrEqual(readTimeout * 0.95);
      // the read timeout plus its 1/8 check step, with room for a loaded machine's timers
      expect(evictedAfter).toBeLessThan(readTimeout * 2);
      afterEviction = [];
      await expect.poll(() => afterEviction.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
    } finally {
      clearInterval(sender);
    }
    // exactly one outcome per request: a RESPONSE, or TIMEOUT / PROVIDER_GONE for those the frozen one held
    const isOutcome = (frame: Frame) => frame.type === FrameType.RESPONSE || frame.type === FrameType.ERROR;
    await expect.poll(() => consumer.inbox.filter(isOutcome).length, { timeout: 10_000 }).toBe(sent.length);
    const outcomes = new Map<string, string>();
    for (const frame of consumer.inbox.filter(isOutcome)) {
      const answer = frame.type === FrameType.RESPONSE ? frame.payload.toString().split(":")[0]! : decodeErrorBody(frame.payload).code;
      outcomes.set(frame.requestId.toString("hex"), answer);
    }
    expect(outcomes.size).toBe(sent.length);
    expect(new Set(outcomes.values())).toContain("live");
    // after the eviction every request is served by the live provider
    expect(afterEviction.map((id) => outcomes.get(id.toString("hex")))).toEqual(afterEviction.map(() => "live"));
    expect(server.stats()).toMatchObject({ providers: 1, inFlight: 0 });
  });

  it("PINGs a provider that is silent while it holds a request, and keeps it while it answers PONG", async () => {
    const readTimeout = 600;
    const { server, provider, consumer } = await h.pair({ readTimeout });
    consumer.answerPings = true;
    const id = consumer.request("take your time", 10_000);
    const start = await provider.nextOf(FrameType.START);
    // silent with work in flight: PINGed at half the read timeout; answering keeps it open
    for (let round = 0; round < 3; round++) {
      const ping = await provider.nextOf(FrameType.PING, undefined, readTimeout * 2);
      expect(ping.requestId.equals(CONNECTION_ID)).toBe(true);
      provider.send(FrameType.PONG, 0, ping.requestId, ping.payload);
    }
    expect(provider.isClosed).toBe(false); // alive well past three read timeouts
    provider.respond(start, "done");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("done");
    expect(server.stats().providers).toBe(1);
  });

  it("closes a provider that holds a request and answers nothing, not even PINGs, and fails the request with PROVIDER_GONE", async () => {
    const readTimeout = 600;
    const { server, provider, consumer } = await h.pair({ readTimeout });
    consumer.answerPings = true;
    const id = consumer.request("never answered", 30_000);
    await provider.nextOf(FrameType.START);
    await provider.nextOf(FrameType.PING, undefined, readTimeout * 2);
    await provider.waitClosed(readTimeout * 3);
    expect((await consumer.nextError(id)).code).toBe("PROVIDER_GONE");
    expect(server.stats()).toMatchObject({ providers: 0, inFlight: 0 });
  });

  it("does not PING an idle registered peer: it is closed at the read timeout", async () => {
    const readTimeout = 400;
    const server = await h.start({ readTimeout });
    const idle = await h.provider(server, newId());
    await idle.waitClosed(readTimeout * 4);
    expect(idle.inbox.filter((frame) => frame.type === FrameType.PING)).toEqual([]);
  });

  it("PINGs a provider that lets a request pass its deadline, and closes it pingTimeout later if it answers nothing — long before the read timeout; its other requests fail with PROVIDER_GONE and new ones go to the live provider", async () => {
    const pingTimeout = 400;
    const server = await h.start({ pingTimeout }); // the read timeout stays at its 2 min default
    const channelId = newId();
    const frozen = await h.provider(server, channelId, { capacity: 100 });
    const consumer = await h.consumer(server, channelId);
    consumer.answerPings = true;
    const short = consumer.request("runs out", 200);
    const long = consumer.request("held longer", 30_000);
    await frozen.nextOf(FrameType.START);
    await frozen.nextOf(FrameType.START);
    const live = await h.provider(server, channelId);
    serve(live, "live");
    expect((await consumer.nextError(short)).code).toBe("TIMEOUT");
    const timedOutAt = performance.now();
    await frozen.nextOf(FrameType.PING);
    await frozen.waitClosed(pingTimeout * 5);
    expect(performance.now() - timedOutAt).toBeGreaterThanOrEqual(pingTimeout * 0.9);
    expect((await consumer.nextError(long)).code).toBe("PROVIDER_GONE");
    const ids = Array.from({ length: 10 }, (_, i) => consumer.request(`after ${i}`, 5000));
    for (const [i, id] of ids.entries()) expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe(`live: after ${i}`);
    expect(server.stats()).toMatchObject({ providers: 1, inFlight: 0 });
  });

  it("keeps a provider whose request ran out but that answers the PING (a slow handler, not a dead process)", async () => {
    const pingTimeout = 300;
    const { server, provider, consumer } = await h.pair({ pingTimeout });
    provider.answerPings = true;
    const id = consumer.request("too slow", 150);
    const start = await provider.nextOf(FrameType.START);
    expect((await consumer.nextError(id)).code).toBe("TIMEOUT");
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await new Promise((resolve) => setTimeout(resolve, pingTimeout * 3));
    expect(provider.isClosed).toBe(false);
    const next = consumer.request("next one");
    provider.respond(await provider.nextOf(FrameType.START), "fine");
    expect((await consumer.nextOf(FrameType.RESPONSE, next)).payload.toString()).toBe("fine");
    expect(server.stats().providers).toBe(1);
  });
});
