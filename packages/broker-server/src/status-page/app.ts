/**
 * The status page's script: polls the monitor's JSON endpoints every second and draws what an
 * operator looks at first. Served as a file of its own (the page's Content-Security-Policy allows
 * no inline script) and bundled with uPlot at build time: nothing is fetched from elsewhere.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { quantileOf } from "../latency-histogram.js";

const POLL_MS = 1000;
/** Points kept per chart: 5 minutes at one a second. */
const WINDOW_POINTS = 300;

interface Status {
  serverId: string;
  version: string;
  state: string;
  uptimeSeconds: number;
  stats: Record<string, number> & { errorsSent: Record<string, number> };
  latency: { counts: number[] };
}

interface Channel {
  id: string;
  providers: unknown[];
  capacity: number;
  inFlight: number;
  queued: number;
  consumers: number;
  requests: number;
  errors: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
}

interface Connection {
  role: string;
  clientName: string;
  remoteAddress: string;
  inFlight: number;
  queuedWriteBytes: number;
  ageMs: number;
}

interface Closed {
  closedAt: number;
  role: string;
  clientName: string;
  remoteAddress: string;
  reason: string;
}

const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers: HeadersInit = token === null ? {} : { authorization: `Bearer ${token}` };

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers, cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  return (await response.json()) as T;
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

function ms(value: number | null): string {
  return value === null ? "–" : decimal.format(value);
}

function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

/** Replaces a table body's rows; cells are text, never HTML (client names come from clients). */
function fillRows(id: string, rows: Array<Array<string | number>>, empty: string): void {
  const body = byId(id);
  const fresh = rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = typeof cell === "number" ? integer.format(cell) : cell;
      if (typeof cell === "number") td.className = "num";
      tr.append(td);
    }
    return tr;
  });
  if (fresh.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 10;
    td.className = "muted";
    td.textContent = empty;
    tr.append(td);
    fresh.push(tr);
  }
  body.replaceChildren(...fresh);
}

function chart(id: string, label: string, color: string): { plot: uPlot; data: [number[], Array<number | null>] } {
  const target = byId(id);
  const data: [number[], Array<number | null>] = [[], []];
  const plot = new uPlot(
    {
      width: Math.max(320, target.clientWidth || 560),
      height: 200,
      legend: { show: false },
      // always the last 5 minutes, however few points there are yet
      scales: { x: { time: true, range: (_u, _min, max) => [max - WINDOW_POINTS, max] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      series: [{}, { label, stroke: color, width: 1.5, fill: `${color}22`, spanGaps: false }],
      // one line of 24-hour clock times, far enough apart not to overlap (uPlot's default is two rows, 12-hour)
      axes: [{ stroke: "#888", space: 80, values: (_u, splits) => splits.map(clockTime) }, { stroke: "#888", size: 60 }],
    },
    data,
    target,
  );
  return { plot, data };
}

/** "14:03:30": a chart's x-axis label for a time in seconds since the epoch, in the browser's time zone. */
function clockTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

function push(series: { plot: uPlot; data: [number[], Array<number | null>] }, time: number, value: number | null): void {
  const [times, values] = series.data;
  times.push(time);
  values.push(value);
  if (times.length > WINDOW_POINTS) {
    times.shift();
    values.shift();
  }
  series.plot.setData(series.data);
}

const rateChart = chart("rate-chart", "requests/s", "#2f6fdf");
const p99Chart = chart("p99-chart", "p99 ms", "#d9822b");
let previous: { at: number; requests: number; counts: number[] } | null = null;

async function poll(): Promise<void> {
  const [status, channels, busiest] = await Promise.all([
    getJson<Status>("/status"),
    getJson<{ channels: Channel[]; total: number }>("/channels?limit=50"),
    getJson<{ connections: Connection[]; recentlyClosed: Closed[] }>("/connections?limit=10&sort=inFlight"),
  ]);
  const now = performance.now();
  const stats = status.stats;
  const badge = byId("state");
  badge.textContent = status.state;
  badge.className = `badge ${status.state}`;
  setText("identity", `server ${status.serverId} · v${status.version} · up ${integer.format(status.uptimeSeconds)} s`);
  setText("requests", integer.format(stats.requests!));
  setText("completed", integer.format(stats.completed!));
  setText("in-flight", integer.format(stats.inFlight!));
  setText("queued", integer.format(stats.queued!));
  setText("connections", integer.format(stats.connections!));
  setText("providers", integer.format(stats.providers!));
  if (previous !== null) {
    const seconds = (now - previous.at) / 1000;
    const rate = (stats.requests! - previous.requests) / seconds;
    const earlier = previous.counts;
    const p99 = quantileOf(
      status.latency.counts.map((count, i) => count - (earlier[i] ?? 0)),
      0.99,
    );
    setText("rate", decimal.format(rate));
    setText("p99", p99 === null ? "–" : `${ms(p99)} ms`);
    const time = Date.now() / 1000;
    push(rateChart, time, rate);
    push(p99Chart, time, p99);
  }
  previous = { at: now, requests: stats.requests!, counts: status.latency.counts };

  fillRows(
    "channels",
    channels.channels.map((c) => [
      c.id,
      c.providers.length,
      c.capacity,
      c.inFlight,
      c.queued,
      c.consumers,
      c.requests,
      Object.values(c.errors).reduce((sum, n) => sum + n, 0),
      ms(c.p50Ms),
      ms(c.p99Ms),
    ]),
    "no channel is open",
  );
  const errors = Object.entries(stats.errorsSent).filter(([, count]) => count > 0);
  fillRows("errors", errors.map(([code, count]) => [code, count]), "none");
  fillRows(
    "busiest",
    busiest.connections.map((c) => [c.role, c.clientName || "–", c.remoteAddress, c.inFlight, c.queuedWriteBytes, Math.round(c.ageMs / 1000)]),
    "no connection is open",
  );
  fillRows(
    "closed",
    busiest.recentlyClosed.slice(0, 10).map((c) => [new Date(c.closedAt).toLocaleTimeString(), c.role, c.clientName || "–", c.remoteAddress, c.reason]),
    "none yet",
  );
}

async function loop(): Promise<void> {
  const problem = byId("problem");
  try {
    await poll();
    problem.hidden = true;
  } catch (error) {
    problem.hidden = false;
    problem.textContent = `Cannot read the monitor: ${(error as Error).message}`;
    const badge = byId("state");
    badge.textContent = "unreachable";
    badge.className = "badge down";
  }
  setTimeout(loop, POLL_MS);
}

void loop();
