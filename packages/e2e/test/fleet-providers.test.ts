import { Consumer, type ConsumerOptions } from "@switchyard/client-consumer";
import { type Handler, Provider, type ProviderOptions } from "@switchyard/client-provider";
import { onCleanup, refusingAddress, useBrokerProcesses } from "@switchyard/testing";
import { v4 as uuid } from "uuid";
import { describe, expect, it, vi } from "vitest";
import { fleetBrokers } from "./fixtures/fleet-brokers.js";

/*
 * One Provider attached to every broker of a fleet (issue 13 item 2), brokers in their own
 * processes through the CLI. Each consumer here is given one broker's address, so the test decides
 * where the demand is.
 */

/** Tests do not wait for production reconnect timings. */
const FAST: ConsumerOptions & ProviderOptions = { closeTimeout: 2000, reconnectDelay: 20, maxReconnectDelay: 200 };

const processes = useBrokerProcesses();

const { start: startBrokers, restart } = fleetBrokers(processes);

async function consumer(address: string, channelId: string): Promise<Consumer> {
  const client = await Consumer.connect(address, channelId, FAST);
  onCleanup(() => client.close());
  return client;
}

async function provider(addresses: string[], channelId: string, handler: Handler, options: ProviderOptions = {}): Promise<Provider> {
  const client = await Provider.connect(addresses, channelId, handler, { ...FAST, ...options });
  onCleanup(() => client.close());
  return client;
}

/** Waits until the provider is registered with every one of `addresses`. */
async function attachedToAll(client: Provider, addresses: string[]): Promise<void> {
  await vi.waitFor(() => expect(client.stats().brokers).toEqual(Object.fromEntries(addresses.map((address) => [address, "open"]))), { timeout: 15_000 });
}

/** A handler that counts the handlers running at once (at the provider) and answers after `holdMs`. */
function countingHandler(holdMs: number): { handler: Handler; running: () => number; most: () => number } {
  let running = 0;
  let most = 0;
  const handler: Handler = async (payload) => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    running--;
    return payload;
  };
  return { handler, running: () => running, most: () => most };
}

/** `count` sends of distinct bodies, `inFlight` at a time, through `client`; resolves with the failures. */
async function sendMany(client: Consumer, count: number, inFlight: number, timeout = 20_000): Promise<Error[]> {
  const failures: Error[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const body = `request ${next++}`;
      try {
        const answer = await client.send(body, { timeout });
        if (String(answer) !== body) failures.push(new Error(`wrong answer ${String(answer)} to ${body}`));
      } catch (error) {
        failures.push(error as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return failures;
}

describe("a provider attached to every broker of a fleet", () => {
  it("serves consumers on all three brokers through one Provider given the address list", async () => {
    const brokers = await startBrokers(3);
    const addresses = brokers.map((broker) => broker.address);
    const channelId = uuid();
    const served = await provider(addresses, channelId, (payload) => payload);
    await attachedToAll(served, addresses);
    // every broker was told a share of the default concurrency, 64
    const capacities = Object.values(served.stats().capacities);
    expect(capacities).toHaveLength(3);
    for (const capacity of capacities) expect(capacity).toBeGreaterThanOrEqual(1);
    const consumers = await Promise.all(addresses.map((address) => consumer(address, channelId)));
    const failures = await Promise.all(consumers.map((client) => sendMany(client, 50, 8)));
    expect(failures.flat()).toEqual([]);
    expect(served.stats().requests).toBe(150);
    expect(consumers.map((client) => client.stats().requests)).toEqual([50, 50, 50]);
  });

  it("never runs more than its concurrency at once across the brokers, under load from consumers on all of them", { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(3);
    const addresses = brokers.map((broker) => broker.address);
    const channelId = uuid();
    const counting = countingHandler(3);
    const served = await provider(addresses, channelId, counting.handler, { concurrency: 8 });
    await attachedToAll(served, addresses);
    const consumers = await Promise.all(addresses.flatMap((address) => [consumer(address, channelId), consumer(address, channelId)]));
    // 6 consumers × 16 in flight = 96 wanted at once, against a concurrency of 8
    const failures = await Promise.all(consumers.map((client) => sendMany(client, 100, 16)));
    expect(failures.flat()).toEqual([]);
    console.log(`fleet provider: 600 requests from 3 brokers, at most ${counting.most()} handlers at once (concurrency 8)`);
    expect(counting.most()).toBeLessThanOrEqual(8);
    expect(counting.most()).toBe(8); // the load was enough to fill it: the bound is what held it
  });

  it("follows demand: with every consumer on one of its two brokers, a provider of concurrency 64 takes 64 at once from that one after the ramp", { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(2);
    const addresses = brokers.map((broker) => broker.address);
    const [busy, idle] = addresses as [string, string];
    const channelId = uuid();
    let running = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let fullAt = 0;
    const served = await provider(addresses, channelId, async (payload) => {
      running++;
      most = Math.max(most, running);
      if (running === 64 && fullAt === 0) fullAt = performance.now();
      await gate;
      running--;
      return payload;
    });
    await attachedToAll(served, addresses);
    expect(served.stats().capacities).toEqual({ [busy]: 32, [idle]: 32 }); // the fair shares at start
    const consumers = await Promise.all([consumer(busy, channelId), consumer(busy, channelId)]);
    const began = performance.now();
    const sends = consumers.map((client) => sendMany(client, 50, 50));
    // 100 wanted at once through one broker: the provider's capacity moves to it until 64 run
    await vi.waitFor(() => expect(running).toBe(64), { timeout: 10_000 });
    console.log(`fleet provider ramp: 64 handlers running from one broker of two ${Math.round(fullAt - began)} ms after the first send (capacities 32/32 at start)`);
    expect(served.stats().capacities).toEqual({ [busy]: 64, [idle]: 1 });
    open();
    expect((await Promise.all(sends)).flat()).toEqual([]);
    expect(most).toBe(64);
    // the idle broker kept 1: its consumers are still served
    const late = await consumer(idle, channelId);
    expect(await sendMany(late, 5, 1)).toEqual([]);
  });

  it("keeps each broker's capacity while that broker keeps it full: with demand on two brokers just filling its concurrency, neither share falls below its demand", { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(2);
    const addresses = brokers.map((broker) => broker.address);
    const channelId = uuid();
    const served = await provider(addresses, channelId, async (payload) => payload, { concurrency: 20 });
    await attachedToAll(served, addresses);
    // 10 consumers on each broker, one request each at a time: demand 10 + 10 on shares of 10 + 10 (and one extra)
    const consumers = await Promise.all(addresses.flatMap((address) => Array.from({ length: 10 }, () => consumer(address, channelId))));
    let sampling = true;
    const lowest = Object.fromEntries(addresses.map((address) => [address, Number.POSITIVE_INFINITY]));
    const moves = new Set<string>();
    const sampler = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300)); // past the first rebalance, which places the one extra
      while (sampling) {
        const capacities = served.stats().capacities;
        moves.add(JSON.stringify(capacities));
        for (const address of addresses) lowest[address] = Math.min(lowest[address]!, capacities[address] ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const failures = await Promise.all(consumers.map((client) => sendMany(client, 600, 1)));
    sampling = false;
    await sampler;
    expect(failures.flat()).toEqual([]);
    console.log(`fleet provider under even demand: capacities seen ${[...moves].join(", ")}`);
    // A share below 10 makes that broker hold requests back while the other's capacity idles.
    for (const address of addresses) expect(lowest[address]).toBeGreaterThanOrEqual(10);
  });

  it("without a handler, hands out at most its concurrency across the brokers until some are answered", { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(2);
    const addresses = brokers.map((broker) => broker.address);
    const channelId = uuid();
    const served = await Provider.connect(addresses, channelId, { ...FAST, concurrency: 4 });
    onCleanup(() => served.close());
    await attachedToAll(served, addresses);
    let outstanding = 0;
    let most = 0;
    const loop = (async () => {
      for await (const request of served.requests()) {
        outstanding++;
        most = Math.max(most, outstanding);
        setTimeout(() => {
          outstanding--;
          void request.respond(request.payload);
        }, 5);
      }
    })();
    const consumers = await Promise.all(addresses.map((address) => consumer(address, channelId)));
    const failures = await Promise.all(consumers.map((client) => sendMany(client, 60, 12)));
    expect(failures.flat()).toEqual([]);
    console.log(`fleet provider, requests(): 120 requests from 2 brokers, at most ${most} handed out at once (concurrency 4)`);
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBe(4);
    await served.close();
    await loop;
  });

  it("re-attaches to a broker killed with SIGKILL and restarted, serving the others meanwhile", { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(3);
    const addresses = brokers.map((broker) => broker.address);
    const channelId = uuid();
    const served = await provider(addresses, channelId, (payload) => payload);
    await attachedToAll(served, addresses);
    const [victim, survivor] = [brokers[1]!, brokers[0]!];
    await victim.kill();
    await vi.waitFor(() => expect(served.stats().brokers[victim.address]).toBe("reconnecting"), { timeout: 10_000 });
    expect(served.state).toBe("open");
    const onSurvivor = await consumer(survivor.address, channelId);
    expect(await sendMany(onSurvivor, 20, 4)).toEqual([]);

    await restart(victim);
    await attachedToAll(served, addresses);
    const onRestarted = await consumer(victim.address, channelId);
    expect(await sendMany(onRestarted, 20, 4)).toEqual([]);
    expect(served.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it("connects to the brokers that are up and joins one that was down at start when it comes up", { timeout: 60_000 }, async () => {
    const [up] = await startBrokers(1);
    const down = await refusingAddress();
    const channelId = uuid();
    const served = await provider([down, up!.address], channelId, (payload) => payload);
    expect(served.state).toBe("open");
    expect(served.stats().brokers).toEqual({ [down]: "reconnecting", [up!.address]: "open" });
    const port = down.slice(down.lastIndexOf(":") + 1);
    await processes.run(["--host", "127.0.0.1", "--port", port]).listening();
    await attachedToAll(served, [down, up!.address]);
    const late = await consumer(down, channelId);
    expect(await sendMany(late, 20, 4)).toEqual([]);
  });

  it("refuses with CONNECT_FAILED when no broker of the list can be reached, and a bad list with INVALID_ARGUMENT", async () => {
    const addresses = [await refusingAddress(), await refusingAddress()];
    await expect(Provider.connect(addresses, uuid(), (payload) => payload, FAST)).rejects.toMatchObject({ code: "CONNECT_FAILED" });
    await expect(Provider.connect([], uuid(), (payload) => payload)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(Provider.connect(["127.0.0.1:9090", "nope"], uuid())).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining('addresses[1] "nope"') });
  });
});
