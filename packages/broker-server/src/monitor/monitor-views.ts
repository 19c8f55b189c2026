import { idToString, Role } from "@switchyard/protocol";
import type { Channel } from "../channel.js";
import { type ClosedConnection, identityOf } from "../closed-connections.js";
import { LATENCY_BUCKETS_MS, type LatencyHistogram } from "../latency-histogram.js";
import type { Peer } from "../peer.js";
import { BROKER_VERSION } from "../version.js";
import type { BrokerView } from "./broker-view.js";
import { type QuerySpec, type QueryValues, readQuery } from "./query.js";

/** Most entries one /connections or /channels answer lists: answers stay small whatever the broker holds. */
export const MAX_PAGE = 1000;
/** Entries listed when no `limit` is given. */
export const DEFAULT_PAGE = 100;

const PAGE = {
  limit: { kind: "integer", min: 1, max: MAX_PAGE, default: DEFAULT_PAGE },
  offset: { kind: "integer", min: 0, max: Number.MAX_SAFE_INTEGER, default: 0 },
} as const satisfies QuerySpec;

/** How /connections may be ordered: oldest first, or the most idle, loaded or backed-up first. */
export const CONNECTION_SORTS = ["age", "idle", "inFlight", "queuedBytes"] as const;

/** Query parameters of each JSON endpoint. */
export const QUERY_SPECS = {
  status: {},
  connections: { ...PAGE, sort: { kind: "choice", choices: CONNECTION_SORTS, default: "age" } },
  channels: PAGE,
} as const satisfies Record<string, QuerySpec>;

/** A latency summary: count, sum and quantiles in ms, and the per-bucket counts (not cumulative). */
export interface LatencySummary {
  count: number;
  sumMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Upper bounds of the buckets, ms; `counts` has one more entry, for > the last bound. */
  bucketsMs: readonly number[];
  counts: number[];
}

function summarise(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    sumMs: histogram.sumMs,
    p50Ms: histogram.quantileMs(0.5),
    p99Ms: histogram.quantileMs(0.99),
    bucketsMs: LATENCY_BUCKETS_MS,
    counts: Array.from(histogram.counts),
  };
}

/** GET /status: who the broker is, its limits, every counter of stats(), and request durations. */
export function statusView(broker: BrokerView, params: URLSearchParams) {
  readQuery(params, QUERY_SPECS.status);
  const memory = process.memoryUsage();
  return {
    serverId: broker.serverId,
    version: BROKER_VERSION,
    state: broker.state,
    ready: broker.state === "listening",
    startedAt: new Date(broker.startedAt).toISOString(),
    uptimeSeconds: (Date.now() - broker.startedAt) / 1000,
    limits: broker.limits,
    stats: broker.stats(),
    latency: summarise(broker.latency),
    closedConnections: { ...broker.closed.byReason },
    process: { pid: process.pid, node: process.version, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
  };
}

/** Requests a peer takes part in now: a consumer's live requests, a provider's held ones. */
function inFlightOf(peer: Peer): number {
  return peer.role === Role.CONSUMER ? peer.requests.size : peer.inFlight.size;
}

function connectionOf(peer: Peer, now: number, nowMs: number) {
  const ctx = peer.ctx;
  return {
    ...identityOf(peer),
    ...(peer.role === Role.PROVIDER ? { capacity: peer.capacity } : {}),
    inFlight: inFlightOf(peer),
    queuedWriteBytes: ctx.queuedBytes,
    queuedWriteFrames: ctx.queuedFrames + ctx.queuedErrorFrames,
    bytesReceived: ctx.bytesRead,
    bytesSent: ctx.bytesWritten,
    connectedAt: new Date(peer.connectedAt).toISOString(),
    ageMs: now - peer.connectedAt,
    /** Ms since it last sent anything, as the read-timeout watch samples it (null when readTimeout is 0). */
    idleMs: ctx.lastReceivedAt === null ? null : Math.max(0, Math.round(nowMs - ctx.lastReceivedAt)),
  };
}

type Connection = ReturnType<typeof connectionOf>;

const ORDER: Record<(typeof CONNECTION_SORTS)[number], (a: Connection, b: Connection) => number> = {
  age: (a, b) => b.ageMs - a.ageMs || a.id - b.id,
  idle: (a, b) => (b.idleMs ?? -1) - (a.idleMs ?? -1) || a.id - b.id,
  inFlight: (a, b) => b.inFlight - a.inFlight || a.id - b.id,
  queuedBytes: (a, b) => b.queuedWriteBytes - a.queuedWriteBytes || a.id - b.id,
};

/**
 * GET /connections?limit&offset&sort: one page of the open connections (role, client, channel,
 * remote address, in flight, queued write bytes, age, idle time), and the recently closed ones
 * with the reason.
 */
export function connectionsView(broker: BrokerView, params: URLSearchParams) {
  const query: QueryValues<typeof QUERY_SPECS.connections> = readQuery(params, QUERY_SPECS.connections);
  const now = Date.now();
  const nowMs = performance.now();
  const all: Connection[] = [];
  for (const peer of broker.peers()) all.push(connectionOf(peer, now, nowMs));
  all.sort(ORDER[query.sort as (typeof CONNECTION_SORTS)[number]]);
  const recentlyClosed: ClosedConnection[] = broker.closed.recent();
  return {
    total: all.length,
    offset: query.offset,
    limit: query.limit,
    sort: query.sort,
    connections: all.slice(query.offset, query.offset + query.limit),
    recentlyClosed,
  };
}

function channelOf(channel: Channel) {
  let capacity = 0;
  let inFlight = 0;
  const providers = channel.providers.map((provider) => {
    capacity += provider.capacity;
    inFlight += provider.inFlight.size;
    return {
      id: provider.ctx.id,
      clientName: provider.clientName,
      clientId: idToString(provider.clientId),
      remoteAddress: provider.ctx.remoteAddress,
      capacity: provider.capacity,
      inFlight: provider.inFlight.size,
    };
  });
  return {
    id: channel.id,
    consumers: channel.consumers,
    providers,
    capacity,
    inFlight,
    queued: channel.waiting.size,
    requests: channel.requests,
    completed: channel.latency.count,
    errors: { ...channel.errors },
    p50Ms: channel.latency.quantileMs(0.5),
    p99Ms: channel.latency.quantileMs(0.99),
  };
}

/**
 * GET /channels?limit&offset: per open channel its providers (capacity, in flight), consumers,
 * queued requests, requests, completed, errors by code, and p50/p99 of completed requests (ms).
 * Counts start when the channel opens and go when its last member leaves.
 */
export function channelsView(broker: BrokerView, params: URLSearchParams) {
  const query = readQuery(params, QUERY_SPECS.channels);
  const page = [];
  let total = 0;
  for (const channel of broker.channels()) {
    if (total >= query.offset && total < query.offset + query.limit) page.push(channelOf(channel));
    total++;
  }
  return { total, offset: query.offset, limit: query.limit, channels: page };
}
