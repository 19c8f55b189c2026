import { loadProviderModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";

/** The header a stream scenario's consumer marks its large request with: that body is streamed. */
export const STREAM_HEADER = "x-bench-stream";

/**
 * The provider of the stream scenarios: one Provider on one connection that echoes every request.
 * A request marked with STREAM_HEADER is read as a stream (`requestBody` chooses per request) and
 * answered with its own body as it arrives — full duplex, as the raw echo server answers — so its
 * upload and download run at once and only the flow control bounds what waits anywhere; the rest
 * (the mixed scenario's small requests) are buffered and echoed whole. It counts the bytes it
 * passes on rather than hashing them: hashing is the e2e test's job (sha256 both ends), and here it
 * would cost the provider's CPU that the raw echo it is compared with does not spend.
 */
export async function runStreamProvider(args: { address: string; channel: string }): Promise<void> {
  const { Provider } = await loadProviderModule();
  const provider = await Provider.connect(
    args.address,
    args.channel,
    (payload, ctx) => (ctx.headers[STREAM_HEADER] === undefined ? payload : ctx.body),
    { requestBody: (ctx) => (ctx.headers[STREAM_HEADER] === undefined ? "buffer" : "stream"), concurrency: 1024 },
  );
  exitWithParent(() => provider.close());
  announceReady({ providers: 1 });
}
