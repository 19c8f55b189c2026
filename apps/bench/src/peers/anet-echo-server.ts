import type net from "node:net";
import { loadAnetModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";
import { listen } from "./raw-echo-server.js";

/** The far end of the anet scenarios: `createAnetServer` answering every frame with its body. */
export async function runAnetEchoServer(): Promise<void> {
  const { createAnetServer } = await loadAnetModule();
  const server = createAnetServer(async (body) => body) as net.Server;
  await listen(server);
  exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
  announceReady({ port: (server.address() as net.AddressInfo).port });
}
