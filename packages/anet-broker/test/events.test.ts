import type { AnetFrame } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import type { AnetConnectionEvent } from "../src/index.js";
import { refusingAddress, rejection, replyAnet, startRawAnetServer } from "@switchyard/testing";
import { startBroker } from "./helpers.js";

/** Reads a broker's events in the background until the iterator ends. */
function collect(events: AsyncIterableIterator<AnetConnectionEvent>): { seen: AnetConnectionEvent[]; ended: Promise<void> } {
  const seen: AnetConnectionEvent[] = [];
  const ended = (async () => {
    for await (const event of events) seen.push(event);
  })();
  return { seen, ended };
}

describe("anet Broker events()", () => {
  it("reports a connection opening, its loss with the requests it failed, a failed dial, and the close", async () => {
    let held: { socket: import("node:net").Socket; frame: AnetFrame } | null = null;
    const server = await startRawAnetServer((frame, socket) => {
      if (String(frame.body) === "hold") held = { socket, frame };
      else replyAnet(socket, frame.taskId, frame.body);
    });
    const refusing = await refusingAddress();
    const broker = startBroker([server.address], { cap: 1 });
    const events = collect(broker.events());
    expect(String(await broker.send("hello"))).toBe("hello");
    const holding = broker.send("hold", { timeout: 10_000 });
    await expect.poll(() => held).not.toBe(null);
    held!.socket.destroy(); // the server drops the connection with the request in flight
    await rejection(holding, "CONNECTION_LOST");
    await expect.poll(() => events.seen.map((e) => e.type)).toEqual(["connected", "disconnected"]);
    expect(events.seen[0]).toMatchObject({ type: "connected", address: server.address, connection: expect.any(Number) });
    expect(events.seen[1]).toMatchObject({ type: "disconnected", address: server.address, failed: 1, reason: expect.any(String) });

    const other = startBroker([refusing], { cap: 1 });
    const otherEvents = collect(other.events());
    await rejection(other.send("nobody"), "NO_POOLS_AVAILABLE");
    expect(otherEvents.seen[0]).toMatchObject({ type: "dial-failed", address: refusing, backoffMs: expect.any(Number) });

    await broker.close();
    await events.ended;
    expect(events.seen.at(-1)).toEqual({ type: "closed" });
  });
});
