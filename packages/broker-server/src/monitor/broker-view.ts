import type { BrokerServerState } from "../broker-server.js";
import type { Channel } from "../channel.js";
import type { ClosedConnections } from "../closed-connections.js";
import type { LatencyHistogram } from "../latency-histogram.js";
import type { NumericOption } from "../options.js";
import type { Peer } from "../peer.js";
import type { BrokerStats } from "../stats.js";

/**
 * What the monitor reads of a BrokerServer: everything is read when an endpoint is asked, never
 * pushed per request, so monitoring costs routing nothing but the one histogram update per
 * completed request the router makes.
 */
export interface BrokerView {
  readonly serverId: string;
  readonly state: BrokerServerState;
  /** Date.now() when the BrokerServer was created. */
  readonly startedAt: number;
  /** The numeric options in force (the limits). */
  readonly limits: Readonly<Record<NumericOption, number>>;
  stats(): BrokerStats;
  peers(): Iterable<Peer>;
  channels(): Iterable<Channel>;
  /** Durations of every completed request. */
  readonly latency: LatencyHistogram;
  readonly closed: ClosedConnections;
}
