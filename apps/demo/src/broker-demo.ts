import { createHash, randomBytes } from "node:crypto";
import { Consumer } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { v4 as uuid } from "uuid";
import { check } from "./check.js";

type Log = (line: string) => void;

/** Everything the broker part of the demo opened, closed in reverse order at the end. */
class Resources {
  readonly #closers: Array<() => Promise<void>> = [];

  track<T extends { close(): Promise<void> }>(resource: T): T {
    this.#closers.push(() => resource.close());
    return resource;
  }

  async closeAll(): Promise<void> {
    for (const close of this.#closers.reverse()) await close();
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

/** The broker demo: the seed example, concurrency, big bodies, sharing, isolation and an error. */
export async function runBrokerDemo(address: string, log: Log): Promise<void> {
  const resources = new Resources();
  try {
    await helloExample(address, resources, log);
    await concurrentRequests(address, resources, log);
    await bigBodies(address, resources, log);
    await sharedChannel(address, resources, log);
    await isolatedChannels(address, resources, log);
    await noProviderError(address, resources, log);
  } finally {
    await resources.closeAll();
  }
}

async function helloExample(address: string, resources: Resources, log: Log): Promise<void> {
  const channel = uuid();
  resources.track(await Provider.connect(address, channel, async (payload) => `processed: ${payload}`));
  const consumer = resources.track(await Consumer.connect(address, channel, { timeout: 5000 }));
  const body = await consumer.send("hello", 5000);
  log(`  send("hello") → ${JSON.stringify(body.toString())}`);
  check(body.toString() === "processed: hello", "the seed example answers processed: hello");
}

async function concurrentRequests(address: string, resources: Resources, log: Log): Promise<void> {
  const channel = uuid();
  resources.track(await Provider.connect(address, channel, async (payload) => `processed: ${payload}`));
  const consumer = resources.track(await Consumer.connect(address, channel));
  const started = performance.now();
  const bodies = await Promise.all(Array.from({ length: 1000 }, (_, i) => consumer.send(`request ${i}`)));
  const ms = performance.now() - started;
  const right = bodies.filter((body, i) => body.toString() === `processed: request ${i}`).length;
  log(`  1 000 concurrent requests on one consumer: ${right} answered correctly in ${ms.toFixed(0)} ms`);
  check(right === 1000, "every concurrent request gets its own answer");
}

async function bigBodies(address: string, resources: Resources, log: Log): Promise<void> {
  const channel = uuid();
  resources.track(await Provider.connect(address, channel, async (payload) => Buffer.from(payload).reverse()));
  const consumer = resources.track(await Consumer.connect(address, channel));
  const request = randomBytes(5 * 1024 * 1024);
  const started = performance.now();
  const response = await consumer.send(request, 30_000);
  const ms = performance.now() - started;
  const expected = Buffer.from(request).reverse();
  log(`  5 MiB each way in ${ms.toFixed(0)} ms: sent sha256 ${sha256(request)}…, got ${sha256(response)}… (expected ${sha256(expected)}…)`);
  check(response.equals(expected), "the 5 MiB response is byte-exact");
}

async function sharedChannel(address: string, resources: Resources, log: Log): Promise<void> {
  const channel = uuid();
  const counts = { A: 0, B: 0 };
  for (const name of ["A", "B"] as const) {
    resources.track(
      await Provider.connect(address, channel, async () => {
        counts[name]++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        return name;
      }),
    );
  }
  const consumer = resources.track(await Consumer.connect(address, channel));
  await Promise.all(Array.from({ length: 200 }, () => consumer.send("who?")));
  log(`  two providers on one channel shared 200 requests: A handled ${counts.A}, B handled ${counts.B}`);
  check(counts.A + counts.B === 200 && counts.A > 0 && counts.B > 0, "both providers take part");
}

async function isolatedChannels(address: string, resources: Resources, log: Log): Promise<void> {
  const channels = [uuid(), uuid()];
  const consumers = [];
  for (const [i, channel] of channels.entries()) {
    resources.track(await Provider.connect(address, channel, async (payload) => `channel ${i} saw ${payload}`));
    consumers.push(resources.track(await Consumer.connect(address, channel)));
  }
  const answers = await Promise.all(consumers.flatMap((consumer, i) => Array.from({ length: 50 }, () => consumer.send(`from ${i}`))));
  const crossed = answers.filter((body, n) => {
    const i = n < 50 ? 0 : 1;
    return body.toString() !== `channel ${i} saw from ${i}`;
  }).length;
  log(`  two channels, 50 requests each at once: ${crossed} crossed over`);
  check(crossed === 0, "channels are isolated");
}

async function noProviderError(address: string, resources: Resources, log: Log): Promise<void> {
  const consumer = resources.track(await Consumer.connect(address, uuid()));
  try {
    await consumer.send("anyone?");
    check(false, "a channel with no provider must fail");
  } catch (error) {
    const code = (error as { code?: string }).code;
    log(`  a channel with no provider: ${(error as Error).name} code=${code}: ${(error as Error).message}`);
    check(code === "NO_PROVIDER", "the error code is NO_PROVIDER");
  }
}
