import { readFileSync } from "node:fs";
import { loadProviderModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";

/**
 * One echo Provider per channel, all in this process, each allowed `concurrency` requests at once;
 * given several brokers (a fleet), each attaches to every one with that concurrency over them all.
 * `eachBrokerAlone` (sharded): instead one Provider per channel and broker, each given that broker only.
 */
export async function runSwitchyardProviders(args: { addresses: string[]; channels: string[]; concurrency: number; caFile?: string; eachBrokerAlone?: boolean }): Promise<void> {
  const { Provider } = await loadProviderModule();
  const tls = args.caFile === undefined ? {} : { tls: { ca: readFileSync(args.caFile) } };
  // One broker: its address as a string, exactly as before the fleet existed.
  const targets = args.eachBrokerAlone ? args.addresses : [args.addresses.length === 1 ? args.addresses[0]! : args.addresses];
  const providers = await Promise.all(
    targets.flatMap((addresses) => args.channels.map((channel) => Provider.connect(addresses, channel, async (payload) => payload, { concurrency: args.concurrency, ...tls }))),
  );
  exitWithParent(async () => {
    await Promise.allSettled(providers.map((provider) => provider.close()));
  });
  announceReady({ providers: providers.length });
}
