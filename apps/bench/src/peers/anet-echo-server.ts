import { loadAnetModule } from "../systems/switchyard-api.js";
import { announceReady, exitWithParent } from "./announce.js";

/** The far end of the anet scenarios: `createAnetServer` answering every frame with its body. */
export async function runAnetEchoServer(): Promise<void> {
  const { createAnetServer } = await loadAnetModule();
  const server = createAnetServer(async (body) => body);
  const { port } = await server.listen(0, "127.0.0.1");
  exitWithParent(() => server.close());
  announceReady({ port });
}
