import type { SystemName } from "./systems/system.js";

/** Body size of every scenario that names none: 64 bytes. */
export const DEFAULT_PAYLOAD_BYTES = 64;

/** One mebibyte, the large1MiB body each way. */
export const MIB = 1024 * 1024;

/** One gibibyte: stream1GiB's body each way, and the mixed scenario's stream. */
export const GIB = 1024 * MIB;

/** Consumers the idle scenario connects: 10 000. */
export const DEFAULT_IDLE_CONNECTIONS = 10_000;

/** The load one scenario puts on a system. */
export interface Shape {
  /** Client connections (consumers; for anet, pooled connections). */
  connections: number;
  /** Requests kept in flight on each connection: 1 means one at a time. */
  inflight: number;
  /** Body bytes, the same each way. */
  payloadBytes: number;
  /** Channels (NATS subjects, ZeroMQ proxies), spread round-robin over the connections. */
  channels: number;
  /** Brokers of a fleet system (every process its own); systems of one broker ignore it. */
  brokers?: number;
}

/** A named benchmark: a shape, the system it measures, and the peers it is compared with. */
export interface Scenario {
  name: string;
  description: string;
  /**
   * "load" runs requests for the duration; "idle" connects `connections` consumers and only holds
   * them; "failover" runs load on a fleet and SIGKILLs one broker a quarter into the measured window;
   * "stream" sends one request of `payloadBytes` each way; "mixed" measures small requests alone,
   * then beside one such stream on the same connections.
   */
  kind: "load" | "idle" | "failover" | "stream" | "mixed";
  shape: Shape;
  ours: SystemName;
  peers: SystemName[];
  /**
   * A load scenario whose systems are set up side by side and measured in turns of about a second
   * (see runInterleaved): for figures compared within 10%, which a shared machine's drift over the
   * seconds between one system's run and the next would swamp.
   */
  interleaved?: boolean;
}

const BROKER_PEERS: SystemName[] = ["nats", "zeromq", "raw-relay", "raw-echo"];

const shape = (connections: number, inflight: number, payloadBytes = DEFAULT_PAYLOAD_BYTES, channels = 1): Shape => ({
  connections,
  inflight,
  payloadBytes,
  channels,
});

/** Every scenario, in the order they run (issue 5's table, issue 13's fleet2 and failover, idle10k). */
export const SCENARIOS: readonly Scenario[] = [
  { name: "single", description: "one consumer, one request at a time", kind: "load", shape: shape(1, 1), ours: "switchyard", peers: BROKER_PEERS },
  { name: "concurrent10", description: "10 consumer connections, each one request at a time", kind: "load", shape: shape(10, 1), ours: "switchyard", peers: BROKER_PEERS },
  { name: "throughput100", description: "100 consumer connections, each one request at a time", kind: "load", shape: shape(100, 1), ours: "switchyard", peers: BROKER_PEERS },
  { name: "pipelined256", description: "one consumer connection, 256 requests always in flight", kind: "load", shape: shape(1, 256), ours: "switchyard", peers: BROKER_PEERS },
  { name: "channels10", description: "10 channels, each with its own provider and consumer", kind: "load", shape: shape(10, 1, DEFAULT_PAYLOAD_BYTES, 10), ours: "switchyard", peers: BROKER_PEERS },
  { name: "large1MiB", description: "one consumer, 1 MiB bodies each way, one at a time", kind: "load", shape: shape(1, 1, MIB), ours: "switchyard", peers: BROKER_PEERS },
  { name: "anet-pipelined", description: "anet Broker, one connection, 256 in flight, against createAnetServer echo", kind: "load", shape: shape(1, 256), ours: "anet", peers: ["raw-echo"] },
  { name: "anet-pool5", description: "anet Broker, pool of 5, 1 000 in flight", kind: "load", shape: shape(5, 200), ours: "anet", peers: ["raw-echo"] },
  {
    name: "fleet2",
    description: "throughput100 through a fleet of two brokers, beside one broker",
    kind: "load",
    shape: { ...shape(100, 1), brokers: 2 },
    ours: "switchyard-fleet",
    peers: ["switchyard", "switchyard-sharded"],
    interleaved: true,
  },
  {
    name: "failover",
    description: "throughput100 through three brokers; the busiest SIGKILLed a quarter into the window",
    kind: "failover",
    shape: { ...shape(100, 1), brokers: 3 },
    ours: "switchyard-fleet",
    peers: [],
  },
  {
    name: "stream1GiB",
    description: "one request: 1 GiB up through consumer.stream(readable), echoed by a provider reading ctx.body, 1 GiB down",
    kind: "stream",
    shape: shape(1, 1, GIB),
    ours: "switchyard",
    peers: ["raw-relay"],
  },
  {
    name: "mixed",
    description: "small requests (4 in flight, 64 B) alone, then while a 1 GiB stream runs on the same consumer and provider connections, then beside a stream whose reader stopped",
    kind: "mixed",
    shape: shape(1, 4, GIB),
    ours: "switchyard",
    peers: [],
  },
  { name: "idle10k", description: "connected consumers that send nothing: the broker's memory", kind: "idle", shape: shape(DEFAULT_IDLE_CONNECTIONS, 0), ours: "switchyard", peers: [] },
];

/** The systems a `--tls` run compares in each broker scenario: ours over TLS first, then NATS over TLS, then both in plaintext. */
export const TLS_SYSTEMS: readonly SystemName[] = ["switchyard-tls", "nats-tls", "switchyard", "nats"];

/**
 * `--tls`: the broker load scenarios with Switchyard over TLS as ours and NATS over TLS beside it,
 * and both in plaintext in the same run, so the table shows TLS against TLS and what TLS costs each.
 * The anet and idle scenarios are left out.
 */
export function overTls(scenarios: readonly Scenario[]): Scenario[] {
  return scenarios
    .filter((scenario) => scenario.kind === "load" && scenario.ours === "switchyard")
    .map((scenario) => ({ ...scenario, ours: TLS_SYSTEMS[0]!, peers: TLS_SYSTEMS.slice(1) }));
}

/**
 * `--monitor`: each Switchyard broker load scenario also runs the broker with its monitoring
 * listener on and scraped, right after the run without, so the same run shows what monitoring costs.
 */
export function withMonitored(scenarios: readonly Scenario[]): Scenario[] {
  return scenarios.map((scenario) =>
    scenario.kind === "load" && scenario.ours === "switchyard" ? { ...scenario, peers: ["switchyard-monitored", ...scenario.peers] } : scenario,
  );
}

/** Command-line overrides of the scenarios' shapes. */
export interface ShapeOverrides {
  payloadBytes?: number;
  connections?: number;
  inflight?: number;
  idleConnections?: number;
  /** Bytes each way of the stream scenarios' stream (--quick makes it small); --payload wins over it. */
  streamBytes?: number;
}

/** A scenario with the command line's overrides applied (the idle count only to idle scenarios). */
export function applyOverrides(scenario: Scenario, overrides: ShapeOverrides): Scenario {
  if (scenario.kind === "idle") {
    return { ...scenario, shape: { ...scenario.shape, connections: overrides.idleConnections ?? scenario.shape.connections } };
  }
  if (scenario.kind === "stream" || scenario.kind === "mixed") {
    return { ...scenario, shape: { ...scenario.shape, payloadBytes: overrides.payloadBytes ?? overrides.streamBytes ?? scenario.shape.payloadBytes } };
  }
  return {
    ...scenario,
    shape: {
      ...scenario.shape,
      payloadBytes: overrides.payloadBytes ?? scenario.shape.payloadBytes,
      connections: overrides.connections ?? scenario.shape.connections,
      inflight: overrides.inflight ?? scenario.shape.inflight,
    },
  };
}

/** "100 connections × 1 in flight, 64 B" */
export function describeShape(scenario: Scenario): string {
  const { connections, inflight, payloadBytes, channels, brokers } = scenario.shape;
  if (scenario.kind === "idle") return `${connections} idle consumers`;
  const size = payloadBytes >= GIB && payloadBytes % GIB === 0 ? `${payloadBytes / GIB} GiB` : payloadBytes >= MIB && payloadBytes % MIB === 0 ? `${payloadBytes / MIB} MiB` : `${payloadBytes} B`;
  if (scenario.kind === "stream") return `${size} each way in one request`;
  if (scenario.kind === "mixed") return `${inflight} small requests in flight beside a stream of ${size} each way, then beside a stalled one`;
  const fleet = brokers === undefined ? "" : `, ${brokers} brokers`;
  return `${connections} connection${connections === 1 ? "" : "s"} × ${inflight} in flight, ${size}${channels > 1 ? `, ${channels} channels` : ""}${fleet}`;
}
