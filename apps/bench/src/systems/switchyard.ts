import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { startPeer } from "./start-peer.js";
import { loadConsumerModule, loadProviderModule } from "./switchyard-api.js";
import { startBroker } from "./switchyard-broker.js";
import { type BenchSystem, lanesOver, measured, prepareWith, type SystemName } from "./system.js";

/** Connection timeout for consumers and providers (ms): generous, connection storms on 2 cores are slow. */
export const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Switchyard: `switchyard-broker` started through its CLI, one echo Provider per channel in a child
 * process, Consumers here. `secure`: the broker serves TLS (`--tls-cert`/`--tls-key`) and every
 * client connects to `tls://` trusting the run's CA. `monitored`: the broker runs its monitoring
 * listener and /metrics is scraped every second.
 */
function switchyardSystem(name: SystemName, label: string, { secure = false, monitored = false } = {}): BenchSystem {
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
      const broker = cleanup.add(await startBroker(context, shape.connections + shape.channels, tlsArgs, monitored), (b) => {
        b.stopScraping();
        return b.child.stop();
      });
      const address = tls === undefined ? broker.address : `tls://${broker.address}`;
      const clientTls = tls === undefined ? {} : { tls: { ca: readFileSync(tls.caFile) } };
      const channels = Array.from({ length: shape.channels }, () => randomUUID());
      const providerArgs = { address, channels, concurrency: Math.max(1, shape.connections * shape.inflight), caFile: tls?.caFile };
      const providers = cleanup.add(await startPeer(context, "switchyard-providers", providerArgs), (p) => p.child.stop());
      const { Consumer } = await loadConsumerModule();
      const consumers = await Promise.all(
        Array.from({ length: shape.connections }, async (_, i) =>
          cleanup.add(await Consumer.connect(address, channels[i % channels.length]!, { connectTimeout: CONNECT_TIMEOUT_MS, timeout: context.requestTimeoutMs, ...clientTls }), (c) => c.close()),
        ),
      );
      const lanes = lanesOver(consumers, shape.inflight, (consumer, body) => consumer.send(body, context.requestTimeoutMs));
      return { lanes, server: measured("switchyard-broker", broker.child), others: [measured("providers", providers.child)] };
    }),
  };
}

/** Switchyard over plaintext TCP. */
export const switchyard = switchyardSystem("switchyard", "Switchyard");
/** Switchyard with every connection over TLS (--tls runs). */
export const switchyardTls = switchyardSystem("switchyard-tls", "Switchyard TLS", { secure: true });
/** Switchyard with the broker's monitoring listener on and scraped (--monitor runs). */
export const switchyardMonitored = switchyardSystem("switchyard-monitored", "Switchyard monitored", { monitored: true });

