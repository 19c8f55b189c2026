import { Consumer, type ConsumerOptions } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { v4 as uuid } from "uuid";
import { type BrokerProcess, startBrokerProcess } from "./broker-process.js";
import { check } from "./check.js";
import { FleetLoad, type FleetSend, SEND_TIMEOUT_MS, SETTLE_SLACK_MS } from "./fleet-load.js";

type Log = (line: string) => void;

const BROKERS = 3;
const CONSUMERS = 12;
/** Sends each consumer keeps in flight. */
const INFLIGHT = 16;
/** How long each phase of load runs, ms: long enough for thousands of sends, short enough for a demo. */
const PHASE_MS = 1500;
/**
 * The demo's clients retry a lost broker within half a second (the default backoff grows to 5 s):
 * the restarted broker is back within a couple of seconds, and the demo should not wait longer.
 */
const CLIENT_OPTIONS: ConsumerOptions = { reconnectDelay: 50, maxReconnectDelay: 500, closeTimeout: 5000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const number = (n: number) => n.toLocaleString("en-US");

/** An echo service: one Provider given every broker of the fleet. */
interface EchoService {
  name: string;
  provider: Provider;
  /** Requests it handled, through any broker. */
  handled: number;
}

/**
 * The fleet part of the demo: three brokers (their own processes), two providers and twelve
 * consumers on all of them, one broker killed with SIGKILL under load, then restarted and rejoined.
 * It prints what happened and checks it against what a fleet promises.
 */
export async function runFleetDemo(log: Log): Promise<void> {
  const brokers = await Promise.all(Array.from({ length: BROKERS }, () => startBrokerProcess()));
  const closers: Array<() => Promise<void>> = [];
  try {
    const addresses = brokers.map((broker) => broker.address);
    log(`  three brokers: ${addresses.join(", ")}`);
    const channel = uuid();
    const services = await Promise.all(["A", "B"].map((name) => echoService(name, addresses, channel)));
    closers.push(...services.map((service) => () => service.provider.close()));
    const consumers = await Promise.all(Array.from({ length: CONSUMERS }, () => Consumer.connect(addresses, channel, CLIENT_OPTIONS)));
    closers.push(...consumers.map((consumer) => () => consumer.close()));
    // connect() resolves once registered with one broker: the rest join in the background.
    const everywhere = (brokers: Record<string, string>) => Object.values(brokers).every((state) => state === "open");
    await until(() => services.every((service) => everywhere(service.provider.stats().brokers)), "every provider attaches to every broker");
    await until(() => consumers.every((consumer) => everywhere(consumer.stats().brokers)), "every consumer connects to every broker");
    // With every broker up, each consumer is on its first choice: where it must be again after the rejoin.
    const homes = consumers.map((consumer) => consumer.stats().broker!);
    const spread = addresses.map((address) => homes.filter((home) => home === address).length);
    log(`  providers A and B on every broker; ${CONSUMERS} consumers spread over the brokers by rendezvous hashing: ${spread.join(", ")}`);

    const victim = brokers[spread.indexOf(Math.max(...spread))]!;
    await loseBroker(victim, consumers, log);
    await rejoin(victim, brokers, consumers, homes, services, log);
    log(`  providers ${services.map((service) => `${service.name} answered ${number(service.handled)}`).join(", ")} requests in all`);
    check(services.every((service) => service.handled > 0), "both providers take part");
  } finally {
    for (const close of closers.reverse()) await close();
    await Promise.all(brokers.map((broker) => broker.stop()));
  }
}

/** Load, SIGKILL of `victim` under it, more load; prints the counts and checks them. */
async function loseBroker(victim: BrokerProcess, consumers: Consumer[], log: Log): Promise<void> {
  const moved = consumers.flatMap((consumer, index) => (consumer.stats().broker === victim.address ? [index] : []));
  const noticed = consumers.map((consumer) => lossNotice(consumer, victim.address));
  const load = new FleetLoad(consumers, INFLIGHT);
  await sleep(PHASE_MS);
  const killedAt = performance.now();
  await victim.kill();
  log(`  ▸ SIGKILL ${victim.address} under load (${number(CONSUMERS * INFLIGHT)} sends in flight, ${moved.length} consumers on it)`);
  await sleep(PHASE_MS);
  const unsettled = await load.stop();

  const { sent, answered, failed } = load.counts();
  const now = consumers.map((consumer) => consumer.stats().broker);
  // Answers to sends started once the consumer noticed the loss: a reply the broker sent just before it died does not count.
  const gaps = moved.map((index) => firstAnswerToSendAfter(load.sends, index, noticed[index]!.at ?? Number.POSITIVE_INFINITY) - killedAt).sort((a, b) => a - b);
  const retried = consumers.reduce((sum, consumer) => sum + consumer.stats().retries, 0);
  log(`    sent ${number(sent)}, answered ${number(answered)}, failed ${describeFailures(failed)}`);
  log(`    ${moved.length} consumers moved off it (now on ${[...new Set(moved.map((index) => now[index]))].join(", ")}); ${retried} idempotent sends retried on another broker`);
  log(`    from the kill to each moved consumer's first answer through another broker: p50 ${gaps[Math.floor(gaps.length / 2)]!.toFixed(1)} ms, max ${gaps.at(-1)!.toFixed(1)} ms`);

  check(unsettled === 0, "every send settles, no later than its deadline plus 1 s");
  check(load.sends.every((send) => send.settlements === 1), "every send settles exactly once");
  check(load.sends.every((send) => send.settledAt! - send.startedAt <= SEND_TIMEOUT_MS + SETTLE_SLACK_MS), "every send settles no later than its deadline plus 1 s");
  check(load.sends.every((send) => !send.wrong), "every answer is the body sent");
  check(answered + Object.values(failed).reduce((sum, n) => sum + n, 0) === sent, "sent = answered + failed");
  const failures = load.sends.filter((send) => send.code !== null);
  check(failures.every((send) => send.code === "DISCONNECTED"), "the only failures are DISCONNECTED");
  check(failures.every((send) => moved.includes(send.consumer) && send.startedAt < noticed[send.consumer]!.at!), "only sends in flight on the lost broker fail");
  check(failures.every((send) => !send.idempotent), "no idempotent send fails");
  check(moved.every((index) => now[index] !== victim.address && now[index] !== null), "every consumer of the lost broker moved to another");
  check(moved.length > 0 && gaps.every((gap) => Number.isFinite(gap)), "every moved consumer is answered again");
}

/** Restarts `victim` where it was; waits for providers to re-attach and its consumers to move back; load with no failure. */
async function rejoin(victim: BrokerProcess, brokers: BrokerProcess[], consumers: Consumer[], homes: string[], services: EchoService[], log: Log): Promise<void> {
  const returning = homes.filter((home) => home === victim.address).length;
  const load = new FleetLoad(consumers, INFLIGHT);
  const again = await startBrokerProcess({ port: victim.port });
  brokers[brokers.indexOf(victim)] = again;
  const restartedAt = performance.now();
  await until(() => services.every((service) => service.provider.stats().brokers[again.address] === "open"), "the providers re-attach to the restarted broker");
  await until(() => consumers.every((consumer, index) => consumer.stats().broker === homes[index]), "the consumers whose first choice it is move back");
  const rejoinedMs = performance.now() - restartedAt;
  // From here the returning consumers send through the restarted broker only; a NO_PROVIDER there would be retried elsewhere and counted.
  const returned = consumers.filter((_, index) => homes[index] === again.address);
  const requestsThere = () => returned.reduce((sum, consumer) => sum + consumer.stats().requests, 0);
  const requestsBefore = requestsThere();
  const retriesBefore = consumers.reduce((sum, consumer) => sum + consumer.stats().retries, 0);
  await sleep(PHASE_MS);
  const unsettled = await load.stop();
  const { sent, answered, failed } = load.counts();
  const throughThere = requestsThere() - requestsBefore;
  const retried = consumers.reduce((sum, consumer) => sum + consumer.stats().retries, 0) - retriesBefore;
  log(`  ▸ restarted ${again.address}: providers re-attached and ${returning} consumers moved back within ${rejoinedMs.toFixed(0)} ms`);
  log(`    sent ${number(sent)}, answered ${number(answered)}, failed ${describeFailures(failed)}; ${number(throughThere)} sent through the restarted broker since, ${retried} retried elsewhere`);
  check(unsettled === 0 && load.sends.every((send) => send.settlements === 1 && !send.wrong), "every send settles exactly once, with the body sent");
  check(answered === sent, "no send fails while the broker rejoins and consumers move back");
  check(throughThere > 0 && retried === 0, "the restarted broker carries requests again, every one to a provider there");
}

/** An echo service attached to every broker: one Provider given the list, its concurrency shared over them. */
async function echoService(name: string, addresses: string[], channel: string): Promise<EchoService> {
  const service = { name, handled: 0 } as EchoService;
  const echo = (payload: Uint8Array) => {
    service.handled++;
    return payload;
  };
  service.provider = await Provider.connect(addresses, channel, echo, { ...CLIENT_OPTIONS, concurrency: CONSUMERS * INFLIGHT });
  return service;
}

/** When (performance.now()) `consumer` first reports the loss of `address`. */
function lossNotice(consumer: Consumer, address: string): { at: number | null } {
  const seen = { at: null as number | null };
  void (async () => {
    for await (const event of consumer.status()) {
      if (event.type === "disconnected" && event.server === address) {
        seen.at = performance.now();
        return;
      }
    }
  })();
  return seen;
}

/** When the first send of consumer `index` started after `after` was answered; Infinity if none was. */
function firstAnswerToSendAfter(sends: FleetSend[], index: number, after: number): number {
  let first = Number.POSITIVE_INFINITY;
  for (const send of sends) if (send.consumer === index && send.code === null && send.startedAt > after && send.settledAt! < first) first = send.settledAt!;
  return first;
}

function describeFailures(failed: Record<string, number>): string {
  const entries = Object.entries(failed);
  return entries.length === 0 ? "0" : entries.map(([code, n]) => `${number(n)} ${code}`).join(", ");
}

/** Polls `condition` every 20 ms; fails the check named `what` after 15 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!condition()) {
    check(performance.now() < deadline, `${what} (within 15 s)`);
    await sleep(20);
  }
}
