import { performance } from "node:perf_hooks";
import type { Consumer } from "@switchyard/client-consumer";
import { loadConsumerModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";

/** Requests sent after connecting, spread over the set, to show the idle consumers really work. */
const PROBES = 10;

/**
 * Connects `count` consumers, `concurrency` at a time, and leaves them idle: the idle10k scenario's load. Reports how many
 * connected, how long it took, and whether a few sampled consumers still get answers.
 */
export async function runIdleConsumers(args: { address: string; channel: string; count: number; timeout: number; concurrency: number }): Promise<void> {
  const { Consumer: ConsumerClass } = await loadConsumerModule();
  const consumers: Consumer[] = [];
  const started = performance.now();
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const opener = async () => {
    while (next < args.count) {
      next++;
      try {
        consumers.push(await ConsumerClass.connect(args.address, args.channel, { connectTimeout: args.timeout, timeout: args.timeout }));
      } catch (err) {
        failed++;
        firstError ??= String(err);
      }
    }
  };
  // `concurrency` connections at once: the run's share of what the broker lets one address have unregistered
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, opener));
  const connectMs = performance.now() - started;
  const probesOk = await probe(consumers, args.timeout);
  exitWithParent(async () => {
    await Promise.allSettled(consumers.map((consumer) => consumer.close()));
  });
  announceReady({ connected: consumers.length, failed, firstError, connectMs, probes: Math.min(PROBES, consumers.length), probesOk });
}

async function probe(consumers: Consumer[], timeout: number): Promise<number> {
  const step = Math.max(1, Math.floor(consumers.length / PROBES));
  const sample = consumers.filter((_, i) => i % step === 0).slice(0, PROBES);
  const results = await Promise.allSettled(sample.map((consumer) => consumer.send(Buffer.from("idle probe"), timeout)));
  return results.filter((result) => result.status === "fulfilled").length;
}
