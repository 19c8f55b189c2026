import type { Child } from "../proc/child-process.js";
import { Cleanup } from "../proc/cleanup.js";
import type { Shape } from "../scenarios.js";

/** Every system the bench can drive: ours first, then the alternatives. */
export type SystemName = "switchyard" | "switchyard-tls" | "switchyard-monitored" | "switchyard-fleet" | "switchyard-sharded" | "anet" | "nats" | "nats-tls" | "zeromq" | "raw-relay" | "raw-echo";

/** The certificates of a `--tls` run (made by scripts/make-certificates.sh): files and the CA's PEM. */
export interface BenchTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Sends one request and resolves with the reply body. */
export type SendFn = (body: Buffer) => Promise<Uint8Array>;

/** A process whose CPU time and memory a run reports. */
export interface MeasuredProcess {
  /** What it is, e.g. "switchyard-broker", "nats-server", "relay". */
  role: string;
  pid: number;
  /** The last lines it printed, kept to explain a failed run. */
  output?(): string;
}

/** Describes a started child for reports. */
export function measured(role: string, child: Child): MeasuredProcess {
  return { role, pid: child.pid, output: () => child.output };
}

/** A system set up for one scenario, ready for load. */
export interface Prepared {
  /** One send function per in-flight slot (connections × inflight), each bound to its connection. */
  lanes: SendFn[];
  /** The process in the middle (broker, proxy, relay, or the server when there is none). */
  server: MeasuredProcess;
  /** The other children (providers, responders, workers), reported too. */
  others: MeasuredProcess[];
  /** A fleet's brokers, when the system is one (then `server` is the first of them). */
  fleet?: FleetOfBrokers;
  /** Closes clients, then stops the children. */
  close(): Promise<void>;
}

/** The brokers of a fleet system, and which one each connection sends through. */
export interface FleetOfBrokers {
  /** Every broker, each its own process, with the address clients dial and a SIGKILL. */
  brokers: Array<MeasuredProcess & { address: string; kill(): Promise<void> }>;
  /**
   * For each connection, in lane order (`inflight` lanes per connection): the broker it sends
   * through now (null: none) and the requests it has sent so far. Read at the window's edges, never per request.
   */
  connections(): Array<{ broker: string | null; requests: number }>;
}

/** What a system needs from the harness. */
export interface SystemContext {
  /** dist/peer.js, the entry of the peer children. */
  peerScript: string;
  /** The `switchyard-broker` CLI, if found. */
  brokerCli: string | undefined;
  /** The CLI's script, run with `node --cpu-prof` when profiling, or `node <brokerNodeFlags>`. */
  brokerScript: string | undefined;
  /** Node flags the broker runs under (--broker-node-flags); empty: the CLI as it is. */
  brokerNodeFlags: string[];
  /** Where the broker writes CPU profiles, when --cpu-prof is on. */
  cpuProfileDir: string | undefined;
  /** A name for this run, used in profile file names. */
  runName: string;
  /** Per-request timeout the clients use (ms): a hung system fails its run instead of hanging it. */
  requestTimeoutMs: number;
  /** With --tls: the certificates the TLS systems serve and trust. */
  tls: BenchTls | undefined;
}

/** One system under test: how to tell it is usable here, and how to set it up for a shape. */
export interface BenchSystem {
  name: SystemName;
  /** How the table names it. */
  label: string;
  /** Undefined when it can run here, else why not (and how to fix it). */
  unavailable(context: SystemContext): Promise<string | undefined>;
  prepare(shape: Shape, context: SystemContext): Promise<Prepared>;
}

/** Spreads `connections` clients over `inflight` lanes each: lane i of client c sends on client c. */
export function lanesOver<C>(clients: C[], inflight: number, send: (client: C, body: Buffer) => Promise<Uint8Array>): SendFn[] {
  return clients.flatMap((client) => Array.from({ length: inflight }, () => (body: Buffer) => send(client, body)));
}

/**
 * Runs a system's set-up with a {@link Cleanup} that becomes the result's `close()`; if set-up
 * fails half-way, whatever it had started is stopped before the error propagates.
 */
export async function prepareWith(setUp: (cleanup: Cleanup) => Promise<Omit<Prepared, "close">>): Promise<Prepared> {
  const cleanup = new Cleanup();
  try {
    return { ...(await setUp(cleanup)), close: () => cleanup.run() };
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}
