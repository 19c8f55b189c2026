import { fileURLToPath } from "node:url";
import { spawnBroker } from "@switchyard/testing";
import { afterEach, describe, expect, it } from "vitest";
import { channel } from "../test/fixtures/harness.js";
import { peakRssOf, ScriptProcess } from "../test/fixtures/script-process.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

/** Bytes each way: 4 GiB (issue 14's "done when"); SWITCHYARD_BIG_STREAM_BYTES sets another size. */
const BYTES = Number(process.env.SWITCHYARD_BIG_STREAM_BYTES ?? 4 * 1024 ** 3);
/** Peak resident set each of the three processes must stay under: 200 MB. */
const MAX_PEAK_RSS = 200e6;
const MB = 1e6;
/** Ms the round trip may take before the test gives up: 15 minutes (it takes far less; see the README). */
const TIMEOUT_MS = 900_000;

describe("a body of any size, memory bounded at every hop", () => {
  const started: Array<{ kill(): Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((process) => process.kill()));
  });

  it(`${BYTES} bytes go consumer → broker → provider and back in one request, byte-exact, each process under 200 MB`, async () => {
    const broker = spawnBroker(["--port", "0", "--host", "127.0.0.1"]);
    started.push(broker);
    const { address } = await broker.listening();
    const id = channel();
    const provider = new ScriptProcess(fixture("big-stream-provider.mjs"), [address, id]);
    started.push(provider);
    await provider.untilLine("ready");
    const consumer = new ScriptProcess(fixture("big-stream-consumer.mjs"), [address, id, String(BYTES)]);
    started.push(consumer);

    const outcome = (await consumer.line(["sent ", "failed "], TIMEOUT_MS)).split(" ");
    expect(outcome[0], outcome.join(" ")).toBe("sent");
    const [, sentBytes, sentSha, , gotBytes, gotSha, consumerPeak, ms] = outcome;
    const [, receivedBytes, receivedSha, providerPeak] = (await provider.line(["received "])).split(" ");
    const brokerPeak = peakRssOf(broker.pid);
    const figures = `${BYTES} bytes each way in ${ms} ms (${((BYTES / MB) / (Number(ms) / 1000)).toFixed(0)} MB/s one way); peak RSS consumer ${(Number(consumerPeak) / MB).toFixed(0)} MB, broker ${(brokerPeak / MB).toFixed(0)} MB, provider ${(Number(providerPeak) / MB).toFixed(0)} MB`;
    console.log(figures);

    expect(Number(sentBytes)).toBe(BYTES);
    expect(Number(receivedBytes), "bytes the provider read").toBe(BYTES);
    expect(receivedSha, "the provider's sha256 of what it read").toBe(sentSha);
    expect(Number(gotBytes), "bytes the consumer got back").toBe(BYTES);
    expect(gotSha, "the consumer's sha256 of what came back").toBe(sentSha);
    expect(Number(consumerPeak), figures).toBeLessThan(MAX_PEAK_RSS);
    expect(brokerPeak, figures).toBeLessThan(MAX_PEAK_RSS);
    expect(Number(providerPeak), figures).toBeLessThan(MAX_PEAK_RSS);
  }, TIMEOUT_MS + 30_000);
});
