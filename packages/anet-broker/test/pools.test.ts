import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { createAnetServer } from "../src/index.js";
import { onCleanup, refusingAddress, rejection } from "@switchyard/testing";
import { startBroker, startServer } from "./helpers.js";

describe("Broker over several pools", () => {
  it("skips a pool whose address refuses connections and serves every request from the others", async () => {
    const down = await refusingAddress();
    const up = await startServer(async (body) => body);
    const warnings: string[] = [];
    const broker = startBroker([down, up], { logger: { warn: (_fields, line) => warnings.push(line ?? ""), debug: () => {} } });
    const bodies = Array.from({ length: 50 }, (_, i) => `b${i}`);
    expect((await Promise.all(bodies.map((body) => broker.send(body)))).map(String)).toEqual(bodies);
    expect(broker.stats().dialFailures).toBeGreaterThanOrEqual(1);
    expect(warnings.some((line) => line.includes(`cannot connect to ${down}`))).toBe(true);
  });

  it("takes console as its logger as it is", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    onCleanup(() => warn.mockRestore());
    const broker = startBroker([await refusingAddress()], { logger: console });
    await rejection(broker.send("x"), "NO_POOLS_AVAILABLE");
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), backoffMs: expect.any(Number) }),
      expect.stringMatching(/^anet: cannot connect to 127\.0\.0\.1:\d+ \(could not connect to 127\.0\.0\.1:\d+: ECONNREFUSED\); skipping it for \d+ ms$/),
    );
  });

  it("fails with NO_POOLS_AVAILABLE when every address refuses, then at once without dialling while they are in backoff", async () => {
    const broker = startBroker([await refusingAddress(), await refusingAddress()], { pool: { reconnectDelay: 10_000 } });
    const error = await rejection(broker.send("x"), "NO_POOLS_AVAILABLE");
    expect(error.cause).toMatchObject({ code: "CONNECT_FAILED" });
    const dials = broker.stats().dialFailures;
    expect(dials).toBe(2);
    await rejection(broker.send("y"), "NO_POOLS_AVAILABLE");
    expect(broker.stats().dialFailures).toBe(dials);
  });

  it("uses an address again once it recovers and its backoff has passed", async () => {
    const address = await refusingAddress();
    const broker = startBroker([address], { pool: { reconnectDelay: 50 } });
    await rejection(broker.send("x"), "NO_POOLS_AVAILABLE");
    const server = createAnetServer(async (body) => body);
    await server.listen(Number(address.split(":")[1]), "127.0.0.1");
    onCleanup(() => server.close());
    await sleep(60);
    expect(String(await broker.send("back"))).toBe("back");
  });

  it("spreads concurrent requests across the pools of several addresses", async () => {
    const hits = [0, 0];
    const addresses = await Promise.all(
      [0, 1].map((n) =>
        startServer(async (body) => {
          hits[n]!++;
          await sleep(1);
          return body;
        }),
      ),
    );
    const broker = startBroker(addresses, { cap: 2, maxInflightPerConn: 4, queueSize: 1000 });
    await Promise.all(Array.from({ length: 400 }, (_, i) => broker.send(`s${i}`)));
    expect(hits[0]! + hits[1]!).toBe(400);
    expect(Math.min(...hits)).toBeGreaterThan(0);
    expect(broker.stats().connections).toBeLessThanOrEqual(4);
  });

  it("never holds more connections from a pool than workers", async () => {
    const address = await startServer(async (body) => {
      await sleep(2);
      return body;
    });
    const broker = startBroker([address], { cap: 5, workers: 2, maxInflightPerConn: 1, queueSize: 100 });
    let peak = 0;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        broker.send(`w${i}`).then(() => {
          peak = Math.max(peak, broker.stats().connections);
        }),
      ),
    );
    expect(peak).toBe(2);
  });
});
