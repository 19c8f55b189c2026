import { Consumer, type ConsumerOptions } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { MiB, onCleanup, patterned, refusingAddress, useBrokerProcesses } from "@switchyard/testing";
import { v4 as uuid } from "uuid";
import { describe, expect, it, vi } from "vitest";
import { type FleetBroker, fleetBrokers } from "./fixtures/fleet-brokers.js";

/** Tests do not wait for production reconnect timings. */
const FAST: ConsumerOptions = { closeTimeout: 2000, reconnectDelay: 20, maxReconnectDelay: 200 };
/** The invariant's slack: a send settles no later than its deadline plus this. */
const SLACK_MS = 1000;
const SEND_TIMEOUT_MS = 10_000;
const IN_FLIGHT_PER_CONSUMER = 32;

const processes = useBrokerProcesses();

const { start: startBrokers, restart } = fleetBrokers(processes);
type Broker = FleetBroker;

async function consumer(addresses: string[], channelId: string, options: ConsumerOptions = {}): Promise<Consumer> {
  const client = await Consumer.connect(addresses, channelId, { ...FAST, ...options });
  onCleanup(() => client.close());
  return client;
}

/** An echo provider attached to every broker (one Provider given the list); resolves once it is registered with all of them. */
async function echoProviders(brokers: Broker[], channelId: string): Promise<Provider> {
  const provider = await Provider.connect(
    brokers.map((broker) => broker.address),
    channelId,
    (payload) => payload,
    { ...FAST, concurrency: 256 },
  );
  onCleanup(() => provider.close());
  await vi.waitFor(() => expect(Object.values(provider.stats().brokers)).toEqual(brokers.map(() => "open")), { timeout: 10_000 });
  return provider;
}

/** Waits until every consumer is connected to all `count` brokers (connect() resolves with the first). */
async function connectedToAll(consumers: Consumer[], count: number): Promise<void> {
  const open = (client: Consumer) => Object.values(client.stats().brokers).filter((state) => state === "open").length;
  await vi.waitFor(() => expect(consumers.map(open)).toEqual(consumers.map(() => count)), { timeout: 10_000 });
}

/** One send and what became of it. */
interface Send {
  consumer: number;
  startedAt: number;
  idempotent: boolean;
  settlements: number;
  elapsedMs: number;
  error?: Error & { code?: string };
  wrong?: boolean;
}

/** Keeps IN_FLIGHT_PER_CONSUMER sends going through each consumer until stop() — mixed small and 2 MiB bodies, half idempotent. */
function load(consumers: Consumer[]): { sends: Send[]; stop(): Promise<void> } {
  const sends: Send[] = [];
  let running = true;
  let seed = 0;
  const worker = async (index: number, client: Consumer) => {
    while (running) {
      seed++;
      const size = seed % 16 === 0 ? 2 * MiB : 16 + (seed % 4000);
      const body = patterned(seed, size);
      const send: Send = { consumer: index, startedAt: performance.now(), idempotent: seed % 2 === 0, settlements: 0, elapsedMs: 0 };
      sends.push(send);
      await client.send(body, { timeout: SEND_TIMEOUT_MS, idempotent: send.idempotent }).then(
        (answer) => {
          send.settlements++;
          send.wrong = !answer.equals(body);
        },
        (error: Error & { code?: string }) => {
          send.settlements++;
          send.error = error;
        },
      );
      send.elapsedMs = performance.now() - send.startedAt;
      if (send.error !== undefined) await new Promise((resolve) => setImmediate(resolve)); // a failing loop must not starve the event loop
    }
  };
  const workers = consumers.flatMap((client, index) => Array.from({ length: IN_FLIGHT_PER_CONSUMER }, () => worker(index, client)));
  onCleanup(() => {
    running = false;
  });
  return {
    sends,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** When (performance.now()) a consumer first reports the loss of `address`. */
function noticeLoss(client: Consumer, address: string): { at: number | null } {
  const seen = { at: null as number | null };
  void (async () => {
    for await (const event of client.status()) {
      if (event.type === "disconnected" && event.server === address && seen.at === null) seen.at = performance.now();
    }
  })();
  return seen;
}

describe("a fleet of three brokers", () => {
  it("spreads 30 consumers over the brokers by rendezvous hashing", async () => {
    const brokers = await startBrokers(3);
    const channelId = uuid();
    await echoProviders(brokers, channelId);
    const addresses = brokers.map((broker) => broker.address);
    const consumers = await Promise.all(Array.from({ length: 30 }, () => consumer(addresses, channelId)));
    await connectedToAll(consumers, 3);
    const counts = new Map(addresses.map((address) => [address, 0]));
    for (const client of consumers) {
      const broker = client.stats().broker!;
      counts.set(broker, counts.get(broker)! + 1);
      // Each answers through the broker it names.
      expect(String(await client.send("hello"))).toBe("hello");
    }
    // Multinomial(30; 1/3 each): every broker gets 6–14 in 81% of runs (transport's rendezvous test
    // shows the hash achieves that), and 3 or more but for a chance of 1 in 500.
    console.log(`fleet spread: 30 consumers over 3 brokers: ${[...counts.values()].join(", ")}`);
    for (const count of counts.values()) expect(count).toBeGreaterThanOrEqual(3);
    expect([...counts.values()].reduce((a, b) => a + b)).toBe(30);
    // The consumers' own counters say which broker carried their requests.
    expect(consumers.every((client) => client.stats().requests === 1)).toBe(true);
  });

  it("loses a broker to SIGKILL under load: only requests in flight on it fail, with DISCONNECTED, and it rejoins with no failure", { timeout: 90_000 }, async () => {
    const brokers = await startBrokers(3);
    const channelId = uuid();
    const provider = await echoProviders(brokers, channelId);
    const addresses = brokers.map((broker) => broker.address);
    const consumers = await Promise.all(Array.from({ length: 6 }, () => consumer(addresses, channelId)));
    await connectedToAll(consumers, 3);
    // Kill the broker most of them use (at least one does).
    const users = new Map<string, number[]>();
    for (const [index, client] of consumers.entries()) users.set(client.stats().broker!, [...(users.get(client.stats().broker!) ?? []), index]);
    const [victimAddress, moved] = [...users.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const victim = brokers.find((broker) => broker.address === victimAddress)!;
    const notices = consumers.map((client) => noticeLoss(client, victimAddress));

    const before = load(consumers);
    await vi.waitFor(() => expect(before.sends.filter((send) => send.settlements === 1).length).toBeGreaterThan(300), { timeout: 20_000 });
    await victim.kill();
    await vi.waitFor(() => expect(moved.every((index) => notices[index]!.at !== null)).toBe(true), { timeout: 10_000 });
    for (const index of moved) expect(consumers[index]!.stats().broker).not.toBe(victimAddress);
    const noticedAt = Math.max(...moved.map((index) => notices[index]!.at!));
    await vi.waitFor(() => expect(before.sends.filter((send) => send.startedAt > noticedAt && send.settlements === 1).length).toBeGreaterThan(300), { timeout: 20_000 });
    await before.stop();

    for (const send of before.sends) {
      expect(send.settlements).toBe(1);
      expect(send.elapsedMs).toBeLessThanOrEqual(SEND_TIMEOUT_MS + SLACK_MS);
      expect(send.wrong ?? false).toBe(false);
    }
    const failed = before.sends.filter((send) => send.error !== undefined);
    for (const send of failed) {
      expect(send.error!.code).toBe("DISCONNECTED");
      expect(send.idempotent, `${send.error!.message} (cause: ${String((send.error as { cause?: unknown }).cause)})`).toBe(false);
      expect(moved).toContain(send.consumer);
      expect(send.startedAt).toBeLessThan(notices[send.consumer]!.at!);
    }
    const retries = consumers.reduce((sum, client) => sum + client.stats().retries, 0);
    console.log(
      `fleet failover: ${before.sends.length} sends, ${failed.length} DISCONNECTED (in flight on the lost broker, none idempotent), ${retries} idempotent sends retried on another broker, ${moved.length} of ${consumers.length} consumers moved`,
    );

    // Restart it: its provider re-attaches, the consumers whose first choice it is move back, and nothing fails meanwhile.
    const after = load(consumers);
    await restart(victim);
    await vi.waitFor(() => expect(provider.stats().brokers[victimAddress]).toBe("open"), { timeout: 20_000 });
    await vi.waitFor(() => expect(moved.map((index) => consumers[index]!.stats().broker)).toEqual(moved.map(() => victimAddress)), { timeout: 20_000 });
    const movedBackAt = performance.now();
    const retriesBack = consumers.reduce((sum, client) => sum + client.stats().retries, 0);
    await vi.waitFor(() => expect(after.sends.filter((send) => send.startedAt > movedBackAt && send.settlements === 1).length).toBeGreaterThan(300), { timeout: 20_000 });
    await after.stop();
    expect(after.sends.filter((send) => send.error !== undefined).map((send) => send.error!.code)).toEqual([]);
    expect(after.sends.every((send) => send.settlements === 1 && send.wrong === false)).toBe(true);
    // The provider serves there again: a NO_PROVIDER there would have been retried elsewhere, unseen by the sends but counted.
    expect(consumers.reduce((sum, client) => sum + client.stats().retries, 0)).toBe(retriesBack);
  });

  it("connects to the brokers that are up, adds one that was down at start when it comes up, and fails over to it", async () => {
    const [up] = await startBrokers(1);
    const down = await refusingAddress();
    const channelId = uuid();
    const client = await consumer([down, up!.address], channelId);
    expect(client.state).toBe("open");
    expect(client.stats().broker).toBe(up!.address);
    const connected = new Promise<void>((resolve) => {
      void (async () => {
        for await (const event of client.status()) if (event.type === "connected" && event.server === down) resolve();
      })();
    });
    const [host, port] = [down.slice(0, down.lastIndexOf(":")), down.slice(down.lastIndexOf(":") + 1)];
    const late = processes.run(["--host", host, "--port", port]);
    await late.listening();
    await connected;
    // Both brokers now serve: with the first gone, sends go through the late one at once.
    await Provider.connect(down, channelId, (payload) => payload, FAST).then((provider) => onCleanup(() => provider.close()));
    await up!.kill();
    await vi.waitFor(() => expect(client.stats().broker).toBe(down));
    expect(String(await client.send("still here"))).toBe("still here");
  });

  it("refuses with CONNECT_FAILED when no broker of the list can be reached, and closes", async () => {
    const addresses = [await refusingAddress(), await refusingAddress()];
    const error = await Consumer.connect(addresses, uuid(), FAST).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONNECT_FAILED" });
  });

  it("follows a host name whose addresses change: a broker that appears is added, one that is gone is dropped", async () => {
    // Three brokers on one port of three loopback addresses, as a headless Service's pods share a port.
    const first = await processes.start();
    const port = String(first.port);
    const others = await Promise.all(["127.0.0.2", "127.0.0.3"].map(async (host) => {
      const broker = processes.run(["--host", host, "--port", port]);
      return Object.assign(broker, await broker.listening());
    }));
    const [a, b, c] = [first, ...others].map((broker) => broker.address);
    const channelId = uuid();
    await echoProviders([first, ...others], channelId);
    let answer = ["127.0.0.1", "127.0.0.2"];
    const lookups: string[] = [];
    const lookup = async (hostname: string) => {
      lookups.push(hostname);
      return answer.map((address) => ({ address, family: 4 }));
    };
    const client = await consumer([`brokers.fleet.test:${port}`], channelId, { lookup, resolveInterval: 50 });
    expect(lookups[0]).toBe("brokers.fleet.test");
    await vi.waitFor(() => expect(client.stats().brokers).toEqual({ [a!]: "open", [b!]: "open" }));
    expect(String(await client.send("before"))).toBe("before");

    answer = ["127.0.0.2", "127.0.0.3"];
    await vi.waitFor(() => expect(client.stats().brokers).toEqual({ [b!]: "open", [c!]: "open" }), { timeout: 10_000 });
    expect([b, c]).toContain(client.stats().broker);
    expect(String(await client.send("after"))).toBe("after");
    // The dropped broker is closed on the client's side, though it still runs: nothing of this consumer stays on it.
    expect(client.state).toBe("open");
  });

  it("refuses a bad address list with INVALID_ARGUMENT naming the entry", async () => {
    await expect(Consumer.connect([], uuid())).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("empty") });
    await expect(Consumer.connect(["127.0.0.1:9090", "nope"], uuid())).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining('addresses[1] "nope"'),
    });
    // biome-ignore lint/suspicious/noExplicitAny: a caller without types passes what it likes
    await expect(Consumer.connect("127.0.0.1:9090", uuid(), { lookup: "8.8.8.8" as any })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("lookup"),
    });
  });
});
