import { readFileSync } from "node:fs";
import { loadProviderModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";

/**
 * One echo Provider per channel and broker, all in this process, each allowed `concurrency`
 * requests at once: with several brokers (a fleet), the channel is served on every one.
 */
export async function runSwitchyardProviders(args: { addresses: string[]; channels: string[]; concurrency: number; caFile?: string }): Promise<void> {
  const { Provider } = await loadProviderModule();
  const tls = args.caFile === undefined ? {} : { tls: { ca: readFileSync(args.caFile) } };
  const providers = await Promise.all(
    args.channels.flatMap((channel) =>
      args.addresses.map((address) => Provider.connect(address, channel, async (payload) => payload, { concurrency: args.concurrency, ...tls })),
    ),
  );
  exitWithParent(async () => {
    await Promise.allSettled(providers.map((provider) => provider.close()));
  });
  announceReady({ providers: providers.length });
}
