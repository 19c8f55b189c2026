/**
 * Entry of the bench's child processes: `node dist/peer.js <role> '<json args>'`. Each role serves
 * one side of a system under test and prints a ready line (see peers/announce.ts).
 */
import { runAnetEchoServer } from "./peers/anet-echo-server.js";
import { runIdleConsumers } from "./peers/idle-consumers.js";
import { runMixedConsumer } from "./peers/mixed-consumer.js";
import { runNatsResponder } from "./peers/nats-responder.js";
import { runRawEchoServer } from "./peers/raw-echo-server.js";
import { runRawRelayServer } from "./peers/raw-relay-server.js";
import { runStreamConsumer } from "./peers/stream-consumer.js";
import { runStreamProvider } from "./peers/stream-provider.js";
import { runSwitchyardProviders } from "./peers/switchyard-providers.js";
import { runZmqProxy } from "./peers/zmq-proxy.js";
import { runZmqWorkers } from "./peers/zmq-workers.js";

// biome-ignore lint/suspicious/noExplicitAny: each role validates its own JSON arguments' shape by use.
const roles: Record<string, (args: any) => Promise<void>> = {
  "raw-echo": runRawEchoServer,
  "raw-relay": runRawRelayServer,
  "zmq-proxy": runZmqProxy,
  "zmq-workers": runZmqWorkers,
  "nats-responder": runNatsResponder,
  "switchyard-providers": runSwitchyardProviders,
  "anet-echo": runAnetEchoServer,
  "idle-consumers": runIdleConsumers,
  "stream-provider": runStreamProvider,
  "stream-consumer": runStreamConsumer,
  "mixed-consumer": runMixedConsumer,
};

const [role = "", json = "{}"] = process.argv.slice(2);
const run = roles[role];
if (run === undefined) {
  process.stderr.write(`unknown peer role "${role}"; roles: ${Object.keys(roles).join(", ")}\n`);
  process.exit(2);
}
run(JSON.parse(json)).catch((err: unknown) => {
  process.stderr.write(`peer ${role} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
