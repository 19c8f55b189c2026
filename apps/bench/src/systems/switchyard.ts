import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { startPeer } from "./start-peer.js";
import { loadConsumerModule, loadProviderModule } from "./switchyard-api.js";
import { fleetBrokerContext, startBroker } from "./switchyard-broker.js";
import { type BenchSystem, lanesOver, measured, prepareWith, type SystemName } from "./system.js";

/** Connection timeout for consumers and providers (ms): generous, connection storms on 2 cores are slow. */
export const CONNECT_TIMEOUT_MS = 30_000;

/** Brokers of the fleet system when the shape names none. */
const DEFAULT_FLEET_BROKERS = 2;

/**
 * Switchyard: `switchyard-broker` started through its CLI, one echo Provider per channel in a child
 * process, Consumers here. `secure`: the broker serves TLS (`--tls-cert`/`--tls-key`) and every
 * client connects to `tls://` trusting the run's CA. `monitored`: the broker runs its monitoring
 * listener and /metrics is scraped every second. `fleet`: `shape.brokers` brokers, each its own
 * process; the providers attach to every one, and each consumer is given the whole list (so sends
 * through the broker it ranks first). `sharded`: as many brokers, each alone: consumer i is given
 * broker i mod n only, and each broker has providers of its own (in the one providers process).
 */
function switchyardSystem(name: SystemName, label: string, { secure = false, monitored = false, fleet = false, sharded = false } = {}): BenchSystem {
  return {
  name,
  label,
  async unavailable(context) {
    if (context.brokerCli === undefined) return "switchyard-broker CLI not found: run through `pnpm bench` after `pnpm install`";
    if (secure && context.tls === undefined) return "TLS systems run with --tls";
    try {
      await Promise.all([loadConsumerModule(), loadProviderModule()]);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const tls = secure ? context.tls! : undefined;
      const tlsArgs = tls === undefined ? [] : ["--tls-cert", tls.certFile, "--tls-key", tls.keyFile];
      const several = fleet || sharded;
      const count = several ? (shape.brokers ?? DEFAULT_FLEET_BROKERS) : 1;
      const brokers = await Promise.all(
        Array.from({ length: count }, async (_, index) =>
          cleanup.add(await startBroker(several ? fleetBrokerContext(context, index) : context, shape.connections + shape.channels, tlsArgs, monitored), (b) => {
            b.stopScraping();
            return b.child.stop();
          }),
        ),
      );
      const addresses = brokers.map((broker) => (tls === undefined ? broker.address : `tls://${broker.address}`));
      // One broker: its address as a string, exactly as before the fleet existed; sharded: one broker each.
      const addressOf = (consumer: number) => (fleet ? addresses : addresses[consumer % count]!);
      const clientTls = tls === undefined ? {} : { tls: { ca: readFileSync(tls.caFile) } };
      const channels = Array.from({ length: shape.channels }, () => randomUUID());
      const providerArgs = { addresses, channels, concurrency: Math.max(1, shape.connections * shape.inflight), caFile: tls?.caFile, eachBrokerAlone: sharded };
      const providers = cleanup.add(await startPeer(context, "switchyard-providers", providerArgs), (p) => p.child.stop());
      const { Consumer } = await loadConsumerModule();
      const consumers = await Promise.all(
        Array.from({ length: shape.connections }, async (_, i) =>
          cleanup.add(await Consumer.connect(addressOf(i), channels[i % channels.length]!, { connectTimeout: CONNECT_TIMEOUT_MS, timeout: context.requestTimeoutMs, ...clientTls }), (c) => c.close()),
        ),
      );
      const lanes = lanesOver(consumers, shape.inflight, (consumer, body) => consumer.send(body, context.requestTimeoutMs));
      const role = (index: number) => (several ? `switchyard-broker ${index + 1}` : "switchyard-broker");
      const others = [measured("providers", providers.child)];
      if (!several) return { lanes, server: measured(role(0), brokers[0]!.child), others };
      // connect() resolves with the first broker: wait for every consumer to reach all of them, so each sends through its first choice.
      await untilEvery(consumers, (consumer) => Object.values(consumer.stats().brokers).every((state) => state === "open"));
      const members = brokers.map((broker, index) => ({ ...measured(role(index), broker.child), address: addresses[index]!, kill: () => broker.child.kill() }));
      const connections = () => consumers.map((consumer) => ({ broker: consumer.stats().broker, requests: consumer.stats().requests }));
      return { lanes, server: members[0]!, others, fleet: { brokers: members, connections } };
    }),
  };
}

/** Polls every 20 ms until `ready` holds for every item; throws after CONNECT_TIMEOUT_MS. */
async function untilEvery<T>(items: T[], ready: (item: T) => boolean): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (!items.every(ready)) {
    if (Date.now() > deadline) throw new Error(`consumers not connected to every broker within ${CONNECT_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Switchyard over plaintext TCP. */
export const switchyard = switchyardSystem("switchyard", "Switchyard");
/** Switchyard with every connection over TLS (--tls runs). */
export const switchyardTls = switchyardSystem("switchyard-tls", "Switchyard TLS", { secure: true });
/** Switchyard with the broker's monitoring listener on and scraped (--monitor runs). */
export const switchyardMonitored = switchyardSystem("switchyard-monitored", "Switchyard monitored", { monitored: true });
/** Switchyard as a fleet of `shape.brokers` brokers (fleet2, failover). */
export const switchyardFleet = switchyardSystem("switchyard-fleet", "Switchyard fleet", { fleet: true });
/**
 * As many lone brokers as the fleet, the consumers and providers split between them by hand: what a
 * user without the fleet would run, and fleet2's like-for-like figure. Each broker carries the share
 * a fleet broker carries, on a machine as busy; the one broker flat out is the bottleneck of its run
 * and never waits for work, which a broker of two on two cores always does.
 */
export const switchyardSharded = switchyardSystem("switchyard-sharded", "Switchyard sharded", { sharded: true });
