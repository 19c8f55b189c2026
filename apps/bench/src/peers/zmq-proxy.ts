import { announceReady, exitWithParent } from "./announce.js";

/**
 * ZeroMQ's own broker: one native `zmq_proxy` per channel between a ROUTER frontend (clients) and
 * a DEALER backend (workers). Each proxy runs on a libuv pool thread, so the parent sets
 * UV_THREADPOOL_SIZE above the channel count.
 */
export async function runZmqProxy(args: { channels: number }): Promise<void> {
  const zmq = await import("zeromq");
  const proxies = Array.from({ length: args.channels }, () => new zmq.Proxy(new zmq.Router({ linger: 0 }), new zmq.Dealer({ linger: 0 })));
  const frontends: string[] = [];
  const backends: string[] = [];
  for (const proxy of proxies) {
    await proxy.frontEnd.bind("tcp://127.0.0.1:*");
    await proxy.backEnd.bind("tcp://127.0.0.1:*");
    frontends.push(proxy.frontEnd.lastEndpoint!);
    backends.push(proxy.backEnd.lastEndpoint!);
  }
  const running = proxies.map((proxy) => proxy.run());
  exitWithParent(async () => {
    for (const proxy of proxies) proxy.terminate();
    await Promise.allSettled(running);
  });
  announceReady({ frontends, backends });
}
