import { startPeer } from "./start-peer.js";
import { loadAnetModule } from "./switchyard-api.js";
import { type BenchSystem, measured, prepareWith } from "./system.js";

/**
 * anet: a Broker over a PoolList of `shape.connections` TCP connections here, against a
 * `createAnetServer` echo in a child process. There is no broker process: the echo server is the
 * process reported.
 */
export const anet: BenchSystem = {
  name: "anet",
  label: "anet",
  async unavailable() {
    try {
      await loadAnetModule();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const { Broker, createPoolList, tcpFactory } = await loadAnetModule();
      const server = cleanup.add(await startPeer<{ port: number }>(context, "anet-echo", {}), (p) => p.child.stop());
      const pools = createPoolList(shape.connections, tcpFactory(), [`127.0.0.1:${server.info.port}`]);
      const laneCount = shape.connections * shape.inflight;
      // anet's documented defaults (maxInflightPerConn 256, queueSize 1000), raised only where a
      // shape asks for more, so the bench never sees QUEUE_FULL.
      const broker = new Broker(pools, {
        maxInflightPerConn: Math.max(256, shape.inflight),
        queueSize: Math.max(1000, laneCount),
      });
      broker.start();
      cleanup.add(broker, (b) => b.close());
      const timeout = context.requestTimeoutMs;
      const lanes = Array.from({ length: laneCount }, () => (body: Buffer) => broker.send(body, { timeout }));
      return { lanes, server: measured("anet echo server (no broker)", server.child), others: [] };
    }),
};
