import { performance } from "node:perf_hooks";
import { streamSource } from "../load/stream-source.js";
import { rawStream } from "../raw/raw-stream.js";
import { loadConsumerModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";
import { STREAM_HEADER } from "./stream-provider.js";

/** What a stream consumer announces once its one stream is done. */
export interface StreamOutcome {
  /** Bytes sent up, and bytes that came back down. */
  uploaded: number;
  downloaded: number;
  /** From the first byte sent to the last byte received, ms. */
  elapsedMs: number;
  /** This process's peak resident set, bytes (process.resourceUsage().maxRSS). */
  peakRssBytes: number;
  /** Why the stream failed, if it did. */
  error?: string;
}

/** Where the stream goes: a Switchyard channel through a broker, or the raw relay's port. */
export type StreamTarget = { system: "switchyard"; address: string; channel: string } | { system: "raw-relay"; port: number };

/**
 * The consumer of stream1GiB, in a process of its own so its peak RSS is its own: sends `bytes`
 * up in one request and reads the echo down as it arrives — with Switchyard, one
 * `consumer.stream(readable)`; with the raw relay, the same bytes as 1 MiB messages through the
 * relay to its echo server — then announces a StreamOutcome and waits for the bench to end it.
 */
export async function runStreamConsumer(args: { target: StreamTarget; bytes: number; timeoutMs: number }): Promise<void> {
  let started = performance.now();
  let downloaded = 0;
  let error: string | undefined;
  try {
    if (args.target.system === "raw-relay") {
      downloaded = await rawStream(args.target.port, streamSource(args.bytes), args.bytes);
    } else {
      const { Consumer } = await loadConsumerModule();
      const consumer = await Consumer.connect(args.target.address, args.target.channel, { connectTimeout: 30_000 });
      try {
        started = performance.now();
        const chunks = consumer.stream(streamSource(args.bytes), { timeout: args.timeoutMs, headers: { [STREAM_HEADER]: "1" } });
        for await (const chunk of chunks) downloaded += chunk.length;
      } finally {
        await consumer.close();
      }
    }
    if (downloaded !== args.bytes) error = `${downloaded} bytes came back of ${args.bytes} sent`;
  } catch (failure) {
    error = (failure as Error).message;
  }
  const outcome: StreamOutcome = {
    uploaded: args.bytes,
    downloaded,
    elapsedMs: performance.now() - started,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ...(error === undefined ? {} : { error }),
  };
  exitWithParent();
  announceReady({ ...outcome });
}
