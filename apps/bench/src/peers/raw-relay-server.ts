import net from "node:net";
import { forwardMessages } from "../raw/forward-messages.js";
import { announceReady, exitWithParent } from "./announce.js";
import { listen } from "./raw-echo-server.js";

/**
 * The raw limit of a Node broker: every client connection is paired with its own upstream
 * connection to the echo server, and each length-prefixed message is parsed and forwarded on its
 * own, both ways. No routing table, no ids: what remains is the cost any Node relay must pay.
 */
export async function runRawRelayServer(args: { upstreamPort: number }): Promise<void> {
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: args.upstreamPort, noDelay: true });
    upstream.once("connect", () => client.resume());
    forwardMessages(client, upstream);
    forwardMessages(upstream, client);
  });
  await listen(server);
  exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
  announceReady({ port: (server.address() as net.AddressInfo).port });
}
