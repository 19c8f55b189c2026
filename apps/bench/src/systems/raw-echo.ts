import type { Cleanup } from "../proc/cleanup.js";
import { RawClient } from "../raw/raw-client.js";
import type { Shape } from "../scenarios.js";
import { startPeer } from "./start-peer.js";
import { type BenchSystem, lanesOver, measured, type Prepared, prepareWith } from "./system.js";

/** Connects `shape.connections` raw clients to `port` and spreads the lanes over them. */
export async function rawClientLanes(cleanup: Cleanup, port: number, shape: Shape): Promise<Prepared["lanes"]> {
  const clients = await Promise.all(
    Array.from({ length: shape.connections }, async () => cleanup.add(await RawClient.connect("127.0.0.1", port), (c) => c.close())),
  );
  return lanesOver(clients, shape.inflight, (client, body) => client.send(body));
}

/** The floor: clients talk straight to a Node echo server, no broker in between. */
export const rawEcho: BenchSystem = {
  name: "raw-echo",
  label: "raw echo",
  unavailable: async () => undefined,
  prepare: (shape, context) =>
    prepareWith(async (cleanup) => {
      const echo = cleanup.add(await startPeer<{ port: number }>(context, "raw-echo", {}), (p) => p.child.stop());
      const lanes = await rawClientLanes(cleanup, echo.info.port, shape);
      return { lanes, server: measured("echo server (no broker)", echo.child), others: [] };
    }),
};
