import { WIRE_ERROR_CODES, type WireErrorCode } from "@switchyard/protocol";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Channel } from "../channel.js";
import { LATENCY_BUCKETS_MS, type LatencyHistogram } from "../latency-histogram.js";
import type { BrokerStats } from "../stats.js";
import type { BrokerView } from "./broker-view.js";

/** Prefix of every metric, Node's default ones included. */
export const METRIC_PREFIX = "switchyard_";

/** Error codes that end a consumer's request (the others refuse registrations or concern providers). */
export const REQUEST_ERROR_CODES: readonly WireErrorCode[] = [
  "NO_PROVIDER",
  "TIMEOUT",
  "PROVIDER_GONE",
  "OVERLOADED",
  "HANDLER_ERROR",
  "PAYLOAD_TOO_LARGE",
  "CANCELLED",
  "SHUTTING_DOWN",
  "FLOW_CONTROL_ERROR",
];

/**
 * A Histogram whose buckets are the router's LatencyHistogram, read at scrape time: the router
 * counts each completed request once in its own array, and nothing is observed through prom-client
 * on the request path. prom-client's Registry renders a metric from its `getForPromString()` (and
 * `get()` builds on it), so that is the one method replaced; the test of /metrics parses the result.
 */
class RecordedHistogram extends Histogram<string> {
  readonly #source: () => LatencyHistogram;

  constructor(name: string, help: string, registry: Registry, source: () => LatencyHistogram) {
    super({ name, help, buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000), registers: [registry] });
    this.#source = source;
  }

  async getForPromString() {
    const name = (this as unknown as { name: string }).name;
    const histogram = this.#source();
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = histogram.cumulative().map((value, i) => ({
      metricName: `${name}_bucket`,
      labels: { le: i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! / 1000 : "+Inf" },
      value,
    }));
    values.push({ metricName: `${name}_sum`, labels: {}, value: histogram.sumMs / 1000 });
    values.push({ metricName: `${name}_count`, labels: {}, value: histogram.count });
    return { name, help: (this as unknown as { help: string }).help, type: "histogram", values, aggregator: "sum" };
  }
}

/** What a metric reads from a stats() snapshot: its one value, or a value per label value. */
type Reading = number | Record<string, number>;

/** Calls `apply` once per series of a reading: unlabelled for a number, else once per label value. */
function forEachSeries(reading: Reading, label: string | undefined, apply: (labels: Record<string, string>, value: number) => void): void {
  if (typeof reading === "number" || label === undefined) {
    apply({}, typeof reading === "number" ? reading : 0);
    return;
  }
  for (const [value, count] of Object.entries(reading)) apply({ [label]: value }, count);
}

/** ERRORs sent by code, for the given codes. */
function byCode(codes: readonly WireErrorCode[], s: BrokerStats): Record<string, number> {
  return Object.fromEntries(codes.map((code) => [code, s.errorsSent[code]]));
}

/**
 * The broker's Prometheus metrics, in a Registry of its own (never prom-client's global one, so
 * two brokers in one process do not collide): Node's default metrics and the broker's, each worked
 * out from the broker's own counters when scraped.
 */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly #broker: BrokerView;
  /** One stats() per scrape, shared by every collect. */
  #stats: BrokerStats | null = null;

  constructor(broker: BrokerView, perChannel: boolean) {
    this.#broker = broker;
    const registry = this.registry;
    const registers = [registry];
    const stats = () => (this.#stats ??= broker.stats());
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

    // A metric is one series, or one per value of its label: `read` returns a number or a record
    // of label value → number, worked out from one stats() snapshot per scrape.
    const counter = (name: string, help: string, read: (s: BrokerStats) => Reading, label?: string) =>
      new Counter({
        name: METRIC_PREFIX + name,
        help,
        labelNames: label === undefined ? [] : [label],
        registers,
        collect() {
          this.reset();
          forEachSeries(read(stats()), label, (labels, value) => this.inc(labels, value));
        },
      });
    const gauge = (name: string, help: string, read: (s: BrokerStats) => Reading, label?: string) =>
      new Gauge({
        name: METRIC_PREFIX + name,
        help,
        labelNames: label === undefined ? [] : [label],
        registers,
        collect() {
          forEachSeries(read(stats()), label, (labels, value) => this.set(labels, value));
        },
      });

    counter(
      "requests_total",
      "Requests by outcome: ok (completed by a provider: its response or its ERROR delivered) or the error code the broker answered with",
      (s) => ({ ok: s.completed, ...byCode(REQUEST_ERROR_CODES, s) }),
      "outcome",
    );
    counter("requests_accepted_total", "Requests accepted (a START that created a request)", (s) => s.requests);
    new RecordedHistogram(`${METRIC_PREFIX}request_duration_seconds`, "Duration of completed requests, START to the frame that completed them", registry, () => broker.latency);
    gauge("requests_in_flight", "Requests held by providers now", (s) => s.inFlight);
    gauge("requests_queued", "Requests waiting for provider capacity now", (s) => s.queued);
    gauge("queued_request_bytes", "Body bytes held for waiting requests now", (s) => s.queuedRequestBytes);
    gauge("stream_held_bytes", "Body bytes of flow-controlled streams held for receivers without credit now", (s) => s.streamHeldBytes);
    gauge(
      "connections",
      "Open connections by role (unregistered: accepted, not yet registered)",
      (s) => ({ consumer: s.consumers, provider: s.providers, unregistered: s.connections - s.consumers - s.providers }),
      "role",
    );
    gauge("providers", "Registered providers now", (s) => s.providers);
    gauge("channels", "Open channels now", (s) => s.channels);
    counter("bytes_total", "Bytes received from (in) and sent to (out) clients", (s) => ({ in: s.bytesReceived, out: s.bytesSent }), "direction");
    counter("slow_peers_closed_total", "Connections closed because the peer left its socket undrained past the write timeout", (s) => s.slowPeersClosed);
    counter("idle_connections_closed_total", "Connections closed because nothing arrived within the read timeout", (s) => s.idleConnectionsClosed);
    counter("protocol_errors_total", "Connections closed for a protocol violation", (s) => s.errorsSent.PROTOCOL_ERROR);
    counter("refused_connections_total", "Sockets closed at once (maxConnections reached, or stopping)", (s) => s.refusedConnections);
    counter("dropped_frames_total", "Frames that could not be queued and were no request's outcome (CANCEL, PONG, BAD_ROUTE)", (s) => s.droppedFrames);
    counter(
      "errors_sent_total",
      "ERRORs the broker itself sent, by code (request outcomes, refused registrations, protocol errors, bad routes)",
      (s) => byCode(Object.keys(WIRE_ERROR_CODES) as WireErrorCode[], s),
      "code",
    );
    gauge("write_queue_max_bytes", "Largest write queue over the open connections now, bytes", (s) => s.writeQueue.maxBytes);
    if (perChannel) this.#perChannel(registers);
  }

  /** The Prometheus text exposition of every metric now. */
  async render(): Promise<string> {
    this.#stats = null;
    try {
      return await this.registry.metrics();
    } finally {
      this.#stats = null;
    }
  }

  /** The content type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Series labelled by channel id: one per open channel, so only when asked for. */
  #perChannel(registers: Registry[]): void {
    const broker = this.#broker;
    const labelNames = ["channel"];
    new Counter({
      name: `${METRIC_PREFIX}channel_requests_total`,
      help: "Requests accepted per open channel (since the channel opened)",
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const channel of broker.channels()) this.inc({ channel: channel.id }, channel.requests);
      },
    });
    const perChannelGauge = (name: string, help: string, read: (channel: Channel) => number) =>
      new Gauge({
        name: METRIC_PREFIX + name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const channel of broker.channels()) this.set({ channel: channel.id }, read(channel));
        },
      });
    perChannelGauge("channel_in_flight", "Requests held by the channel's providers now", (c) => c.providers.reduce((sum, p) => sum + p.inFlight.size, 0));
    perChannelGauge("channel_queued", "Requests of the channel waiting for capacity now", (c) => c.waiting.size);
    perChannelGauge("channel_providers", "Providers of the channel now", (c) => c.providers.length);
    perChannelGauge("channel_capacity", "Summed capacity of the channel's providers now", (c) => c.providers.reduce((sum, p) => sum + p.capacity, 0));
  }
}
