import { rawClientLanes } from "./raw-echo.js";
import { startPeer } from "./start-peer.js";
import { type BenchSystem, measured, prepareWith } from "./system.js";

/** The best any Node broker could do here: client ⇄ relay ⇄ echo, each message parsed and forwarded. */
export const rawRelay: BenchSystem = {
  name: "raw-relay",
  label: "raw relay",
  unavailable: async () => undefined,
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const echo = cleanup.add(await startPeer<{ port: number }>(context, "raw-echo", {}), (p) => p.child.stop());
      const relay = cleanup.add(await startPeer<{ port: number }>(context, "raw-relay", { upstreamPort: echo.info.port }), (p) => p.child.stop());
      const lanes = await rawClientLanes(cleanup, relay.info.port, shape);
      return { lanes, server: measured("relay", relay.child), others: [measured("echo server", echo.child)] };
    }),
};
