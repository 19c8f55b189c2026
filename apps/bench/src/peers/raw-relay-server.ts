import net from "node:net";
import { LengthPrefixedDecoder, writeLengthPrefixed } from "../raw/length-prefixed.js";
import { announceReady, exitWithParent } from "./announce.js";
import { listen } from "./raw-echo-server.js";

/**
 * The raw limit of a Node broker: every client connection is paired with its own upstream
 * connection to the echo server, and each length-prefixed message is parsed and forwarded on its
 * own, both ways. No routing table, no ids: what remains is the cost any Node relay must pay.
 * Writes are corked per read, the same batching the broker is allowed.
 */
export async function runRawRelayServer(args: { upstreamPort: number }): Promise<void> {
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: args.upstreamPort, noDelay: true });
    upstream.once("connect", () => client.resume());
    forward(client, upstream);
    forward(upstream, client);
  });
  await listen(server);
  exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
  announceReady({ port: (server.address() as net.AddressInfo).port });
}

/** Forwards each message read on `from` to `to`; either side's end or error ends both. */
function forward(from: net.Socket, to: net.Socket): void {
  const decoder = new LengthPrefixedDecoder();
  from.on("data", (chunk: Buffer) => {
    to.cork();
    decoder.push(chunk, (body) => writeLengthPrefixed(to, body));
    to.uncork();
  });
  from.on("error", () => to.destroy());
  from.on("close", () => to.destroy());
}
