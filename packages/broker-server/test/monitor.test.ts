import { connect } from "node:net";
import { FrameType, newId } from "@switchyard/protocol";
import parsePrometheusTextFormat, { type PrometheusFamily } from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { type BrokerProcess, RawClient, useBrokerProcesses } from "@switchyard/testing";

const { run } = useBrokerProcesses();

interface Monitored {
  broker: BrokerProcess;
  port: number;
  monitor: string;
}

/** Starts the CLI with a monitor on port 0 and reads both start-up lines. */
async function startMonitored(extra: string[] = []): Promise<Monitored> {
  const broker = run(["--port", "0", "--monitor", "127.0.0.1:0", "--log-level", "warn", ...extra]);
  await expect.poll(() => broker.stdout().split("\n").length, { timeout: 10_000 }).toBe(3);
  const match = /^switchyard-broker listening on 127\.0\.0\.1:(\d+)\nswitchyard-broker monitoring on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(broker.stdout());
  if (match === null) throw new Error(`unexpected start-up lines: ${JSON.stringify(broker.stdout())}`);
  return { broker, port: Number(match[1]), monitor: match[2]! };
}

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

async function getJson<T = Record<string, unknown>>(url: string, init: RequestInit = {}): Promise<T> {
  const { status, body } = await get(url, init);
  expect(status, body).toBe(200);
  return JSON.parse(body) as T;
}

/** Round trips through a fresh provider and consumer on a fresh channel; returns them. */
async function traffic(port: number, requests: number, names = { provider: "echo-provider", consumer: "test-consumer" }) {
  const channelId = newId();
  const provider = await (await RawClient.open(port)).register({ role: "provider", channelId, capacity: 8, clientName: names.provider });
  const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId, clientName: names.consumer });
  for (let i = 0; i < requests; i++) {
    const id = consumer.request(`request ${i}`);
    provider.respond(await provider.nextOf(FrameType.START), `answer ${i}`);
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe(`answer ${i}`);
  }
  return { channelId, provider, consumer };
}

function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const found = families.find((f) => f.name === name);
  if (found === undefined) throw new Error(`metric ${name} missing; have ${families.map((f) => f.name).join(", ")}`);
  return found;
}

function sample(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  const metric = family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (metric === undefined) throw new Error(`no ${name} sample with ${JSON.stringify(labels)}`);
  return Number(metric.value);
}

describe("switchyard-broker --monitor", () => {
  it("prints both start-up lines and answers /livez and /readyz while listening", async () => {
    const { broker, monitor } = await startMonitored();
    expect(broker.stdout()).toMatch(/^switchyard-broker listening on 127\.0\.0\.1:\d+\nswitchyard-broker monitoring on http:\/\/127\.0\.0\.1:\d+\n$/);
    expect((await get(`${monitor}/livez`)).status).toBe(200);
    const ready = await get(`${monitor}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready" });
  });

  it("turns /readyz 503 within 100 ms of SIGTERM while an in-flight request still finishes", async () => {
    const { broker, port, monitor } = await startMonitored();
    const channelId = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId });
    const id = consumer.request("held across the drain", 10_000);
    const start = await provider.nextOf(FrameType.START);
    // How long a /readyz round trip takes on this machine right now: on a loaded machine (a whole
    // test run on 2 shared cores) one can take longer than 100 ms by itself.
    let slowestRoundTripMs = 0;
    for (let i = 0; i < 5; i++) {
      const sentAt = performance.now();
      expect((await get(`${monitor}/readyz`)).status).toBe(200);
      slowestRoundTripMs = Math.max(slowestRoundTripMs, performance.now() - sentAt);
    }

    const signalledAt = performance.now();
    broker.child.kill("SIGTERM");
    let readiness = await get(`${monitor}/readyz`);
    while (readiness.status === 200) readiness = await get(`${monitor}/readyz`);
    const elapsedMs = performance.now() - signalledAt;
    expect(readiness.status).toBe(503);
    expect(JSON.parse(readiness.body)).toMatchObject({ status: "draining" });
    // 100 ms on a quiet machine; the CLI's signal handler flips the state synchronously, so beyond
    // that only the round trips count
    expect(elapsedMs).toBeLessThan(100 + 3 * slowestRoundTripMs);
    // still draining: alive, and the request held by the provider is not lost
    expect((await get(`${monitor}/livez`)).status).toBe(200);
    expect(broker.child.exitCode).toBe(null);
    provider.respond(start, "finished while draining");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("finished while draining");
    expect(await broker.exited).toBe(0);
  });

  it("serves /metrics as Prometheus text whose counters equal /status's", async () => {
    const { port, monitor } = await startMonitored();
    await traffic(port, 25);
    // two refusals the broker answers itself: no provider on this channel
    const lonely = await (await RawClient.open(port)).register({ role: "consumer", channelId: newId() });
    for (let i = 0; i < 2; i++) await lonely.nextError(lonely.request("anyone?"));

    const metricsResponse = await get(`${monitor}/metrics`);
    expect(metricsResponse.status).toBe(200);
    expect(metricsResponse.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(metricsResponse.body);
    const status = await getJson<{ stats: Record<string, number> & { errorsSent: Record<string, number> }; latency: { count: number } }>(`${monitor}/status`);
    const stats = status.stats;

    expect(stats.completed).toBe(25);
    expect(sample(families, "switchyard_requests_total", { outcome: "ok" })).toBe(stats.completed);
    expect(sample(families, "switchyard_requests_total", { outcome: "NO_PROVIDER" })).toBe(2);
    expect(sample(families, "switchyard_requests_accepted_total")).toBe(stats.requests);
    for (const [code, count] of Object.entries(stats.errorsSent)) expect(sample(families, "switchyard_errors_sent_total", { code })).toBe(count);
    expect(sample(families, "switchyard_requests_in_flight")).toBe(stats.inFlight);
    expect(sample(families, "switchyard_requests_queued")).toBe(stats.queued);
    expect(sample(families, "switchyard_connections", { role: "consumer" })).toBe(stats.consumers);
    expect(sample(families, "switchyard_connections", { role: "provider" })).toBe(stats.providers);
    expect(sample(families, "switchyard_providers")).toBe(1);
    expect(sample(families, "switchyard_bytes_total", { direction: "in" })).toBe(stats.bytesReceived);
    expect(sample(families, "switchyard_bytes_total", { direction: "out" })).toBe(stats.bytesSent);
    expect(stats.bytesReceived).toBeGreaterThan(25 * 32);
    expect(sample(families, "switchyard_slow_peers_closed_total")).toBe(stats.slowPeersClosed);
    expect(sample(families, "switchyard_protocol_errors_total")).toBe(stats.errorsSent.PROTOCOL_ERROR);

    const duration = family(families, "switchyard_request_duration_seconds");
    expect(duration.type).toBe("HISTOGRAM");
    expect(status.latency.count).toBe(25);
    expect(Number(duration.metrics[0]!.buckets!["+Inf"])).toBe(25);
    // Node's default metrics, under the same prefix
    expect(family(families, "switchyard_process_cpu_user_seconds_total").type).toBe("COUNTER");
    expect(families.some((f) => f.name.startsWith("switchyard_channel_"))).toBe(false);
  });

  it("lists connections with their clients and the recently closed ones with why they closed", async () => {
    const { port, monitor } = await startMonitored();
    const { channelId, provider } = await traffic(port, 3);
    const busy = await (await RawClient.open(port)).register({ role: "consumer", channelId, clientName: "busy-consumer" });
    busy.request("held", 10_000);
    busy.request("held too", 10_000);
    await provider.nextOf(FrameType.START);
    await provider.nextOf(FrameType.START);
    // a connection that breaks the protocol, closed by the broker
    const rude = await RawClient.open(port);
    rude.sendRaw(Buffer.from("this is not a frame at all, not even close to one"));
    await rude.waitClosed();

    type Connections = { total: number; connections: Array<Record<string, unknown>>; recentlyClosed: Array<Record<string, unknown>> };
    const page = await getJson<Connections>(`${monitor}/connections?sort=inFlight`);
    expect(page.total).toBe(3);
    expect(page.connections.map((c) => c.inFlight)).toEqual([2, 2, 0]);
    expect(page.connections.find((c) => c.clientName === "busy-consumer")).toMatchObject({ role: "consumer", inFlight: 2 });
    expect(page.connections.map((c) => c.clientName).sort()).toEqual(["busy-consumer", "echo-provider", "test-consumer"]);
    for (const connection of page.connections) {
      expect(connection).toMatchObject({ remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/), queuedWriteBytes: expect.any(Number), ageMs: expect.any(Number), idleMs: expect.any(Number) });
    }
    expect(page.connections.find((c) => c.clientName === "echo-provider")).toMatchObject({ role: "provider", capacity: 8, inFlight: 2 });
    expect(page.recentlyClosed[0]).toMatchObject({ role: "unregistered", reason: "PROTOCOL_ERROR" });

    const second = await getJson<Connections>(`${monitor}/connections?limit=1&offset=1&sort=age`);
    expect(second.connections).toHaveLength(1);

    type Channels = { total: number; channels: Array<Record<string, unknown>> };
    const channels = await getJson<Channels>(`${monitor}/channels`);
    expect(channels.total).toBe(1);
    expect(channels.channels[0]).toMatchObject({
      consumers: 2,
      capacity: 8,
      inFlight: 2,
      queued: 0,
      requests: 5,
      completed: 3,
      providers: [{ clientName: "echo-provider", capacity: 8, inFlight: 2 }],
    });
    expect(channels.channels[0]!.p99Ms).toEqual(expect.any(Number));
  });

  it("labels metrics per channel only with --metrics-per-channel", async () => {
    const { port, monitor } = await startMonitored(["--metrics-per-channel"]);
    const { channelId } = await traffic(port, 4);
    const families = parsePrometheusTextFormat((await get(`${monitor}/metrics`)).body);
    const channel = (await getJson<{ channels: Array<{ id: string }> }>(`${monitor}/channels`)).channels[0]!.id;
    expect(channel).toBe([...channelId.toString("hex").match(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/)!.slice(1)].join("-"));
    expect(sample(families, "switchyard_channel_requests_total", { channel })).toBe(4);
    expect(sample(families, "switchyard_channel_capacity", { channel })).toBe(8);
  });

  it("asks for the token on everything but the probes, and refuses unknown paths, other methods and bad parameters", async () => {
    const { port, monitor } = await startMonitored(["--monitor-token", "s3cret"]);
    const auth = { headers: { authorization: "Bearer s3cret" } };
    expect((await get(`${monitor}/livez`)).status).toBe(200);
    expect((await get(`${monitor}/readyz`)).status).toBe(200);
    for (const path of ["/metrics", "/status", "/connections", "/channels"]) {
      const missing = await get(`${monitor}${path}`);
      expect(missing.status, path).toBe(401);
      expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(JSON.parse(missing.body).message).toMatch(/Authorization: Bearer/);
      expect((await get(`${monitor}${path}`, { headers: { authorization: "Bearer s3cre" } })).status, path).toBe(401);
      expect((await get(`${monitor}${path}`, { headers: { authorization: "Basic s3cret" } })).status, path).toBe(401);
      expect((await get(`${monitor}${path}`, auth)).status, path).toBe(200);
    }
    const notFound = await get(`${monitor}/varz`, auth);
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body).message).toMatch(/no endpoint \/varz/);
    for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
      const refused = await get(`${monitor}/status`, { ...auth, method });
      expect(refused.status, method).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET");
    }
    const badQueries: Array<[string, RegExp]> = [
      ["/connections?limit=0", /limit must be a whole number 1 ..= 1000, got "0"/],
      ["/connections?limit=1001", /limit must be a whole number 1 ..= 1000/],
      ["/connections?limit=ten", /limit must be a whole number/],
      ["/connections?offset=-1", /offset must be a whole number 0/],
      ["/connections?sort=load", /sort must be one of age, idle, inFlight, queuedBytes/],
      ["/connections?limit=1&limit=2", /limit given more than once/],
      ["/channels?color=red", /unknown query parameter "color"; known: limit, offset/],
      ["/status?verbose=1", /this endpoint takes none/],
    ];
    for (const [path, message] of badQueries) {
      const answer = await get(`${monitor}${path}`, auth);
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body), path).toMatchObject({ error: "BAD_QUERY", message: expect.stringMatching(message) });
    }
    // garbage instead of HTTP: Node answers 400 and the monitor goes on
    const garbage = connect(Number(new URL(monitor).port), "127.0.0.1");
    garbage.write("\u0000\u0001 not http at all\r\n\r\n");
    const reply = await new Promise<string>((resolve) => {
      let text = "";
      garbage.on("data", (chunk) => (text += chunk));
      garbage.on("close", () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    // nothing else was disturbed
    await traffic(port, 2);
    expect((await getJson<{ stats: { completed: number } }>(`${monitor}/status`, auth)).stats.completed).toBe(2);
  });

  it("a slow monitor client stalls neither routing nor the monitor, and is cut off", async () => {
    const { port, monitor } = await startMonitored();
    const slow = connect(Number(new URL(monitor).port), "127.0.0.1");
    let answer = "";
    slow.on("data", (chunk) => (answer += chunk));
    const closed = new Promise<void>((resolve) => slow.on("close", () => resolve()));
    await new Promise<void>((resolve) => slow.once("connect", () => resolve()));
    slow.write("GET /connections HTTP/1.1\r\nHost: monitor\r\n"); // headers never finished
    const startedAt = performance.now();
    await traffic(port, 20);
    expect((await getJson<{ stats: { completed: number } }>(`${monitor}/status`)).stats.completed).toBe(20);
    await closed;
    const heldMs = performance.now() - startedAt;
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(heldMs).toBeLessThan(15_000); // the 5 s header timeout, checked every second
  });
});
