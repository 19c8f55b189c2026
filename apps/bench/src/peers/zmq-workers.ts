import { announceReady, exitWithParent } from "./announce.js";

/**
 * One DEALER worker per proxy backend, echoing every multipart message it receives (routing
 * envelope included) so the proxy routes the reply back. A DEALER, not a REP, so a worker keeps
 * many requests in flight as a Switchyard provider or a NATS responder does.
 */
export async function runZmqWorkers(args: { backends: string[] }): Promise<void> {
  const zmq = await import("zeromq");
  const workers = args.backends.map((endpoint) => {
    const socket = new zmq.Dealer({ linger: 0 });
    socket.connect(endpoint);
    return socket;
  });
  const loops = workers.map(async (socket) => {
    for await (const message of socket) await socket.send(message);
  });
  exitWithParent(async () => {
    for (const socket of workers) socket.close();
    await Promise.allSettled(loops);
  });
  announceReady({ workers: workers.length });
}
