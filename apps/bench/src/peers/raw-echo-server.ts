import net from "node:net";
import { forwardMessages } from "../raw/forward-messages.js";
import { announceReady, exitWithParent } from "./announce.js";

/**
 * The raw limit's far end: answers every length-prefixed message with the same bytes. It parses
 * each message and writes each back, which is the least any responder does.
 */
export async function runRawEchoServer(): Promise<void> {
  const server = net.createServer({ noDelay: true }, (socket) => forwardMessages(socket, socket));
  await listen(server);
  exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
  announceReady({ port: (server.address() as net.AddressInfo).port });
}

/** Listens on an ephemeral loopback port. */
export function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
