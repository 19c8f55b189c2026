import { ZmqClient } from "../zmq/zmq-client.js";
import { startPeer } from "./start-peer.js";
import { type BenchSystem, lanesOver, measured, prepareWith } from "./system.js";

/** libuv pool threads beyond the proxies' own (each native proxy holds one for its lifetime). */
const SPARE_POOL_THREADS = 4;

/**
 * ZeroMQ's native proxy: a child process running `zmq_proxy` (zeromq.js `Proxy`) between a ROUTER
 * frontend and a DEALER backend per channel, DEALER echo workers in another child, and DEALER
 * clients here.
 */
export const zeromq: BenchSystem = {
  name: "zeromq",
  label: "ZeroMQ",
  async unavailable() {
    try {
      await import("zeromq");
      return undefined;
    } catch (err) {
      return `the zeromq package does not load here (${(err as Error).message.split("\n")[0]})`;
    }
  },
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const proxy = await startPeer<{ frontends: string[]; backends: string[] }>(
        context,
        "zmq-proxy",
        { channels: shape.channels },
        { env: { UV_THREADPOOL_SIZE: String(shape.channels + SPARE_POOL_THREADS) } },
      );
      cleanup.add(proxy, (p) => p.child.stop());
      const workers = cleanup.add(await startPeer(context, "zmq-workers", { backends: proxy.info.backends }), (p) => p.child.stop());
      const { frontends } = proxy.info;
      const clients = await Promise.all(
        Array.from({ length: shape.connections }, async (_, i) => cleanup.add(await ZmqClient.connect(frontends[i % frontends.length]!), (c) => c.close())),
      );
      const lanes = lanesOver(clients, shape.inflight, (client, body) => client.send(body));
      return { lanes, server: measured("zmq proxy", proxy.child), others: [measured("workers", workers.child)] };
    }),
};
