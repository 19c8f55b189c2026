import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { connect as connectTls } from "node:tls";
import { Consumer, type ConsumerOptions } from "@switchyard/client-consumer";
import { type Handler, Provider, type ProviderOptions } from "@switchyard/client-provider";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type BrokerProcess,
  type Listening,
  MiB,
  makeTestCertificates,
  patterned,
  patternMismatch,
  type TestCertificates,
  useBrokerProcesses,
} from "@switchyard/testing";
import { channel } from "./fixtures/harness.js";

/** A switchyard-broker started through its CLI, as a user runs it. */
type BrokerCli = BrokerProcess & Listening;
const brokers = useBrokerProcesses();
/** Starts `switchyard-broker --host 127.0.0.1 --port 0 --log-level info …args` (killed after the test). */
const startBrokerCli = (args: string[]): Promise<BrokerCli> => brokers.start(["--log-level", "info", ...args]);

/** Tests do not wait for production close and reconnect timings. */
const FAST = { closeTimeout: 1000, reconnectDelay: 20, maxReconnectDelay: 200 };

const certs = makeTestCertificates("billing-worker", "billing-api");
const otherCa = makeTestCertificates();
afterAll(() => {
  certs.remove();
  otherCa.remove();
});

const clients: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function consumer(address: string, channelId: string, options: ConsumerOptions = {}): Promise<Consumer> {
  const client = await Consumer.connect(address, channelId, { ...FAST, ...options });
  clients.push(client);
  return client;
}

async function provider(address: string, channelId: string, handler: Handler, options: ProviderOptions = {}): Promise<Provider> {
  const client = await Provider.connect(address, channelId, handler, { ...FAST, ...options });
  clients.push(client);
  return client;
}

const serverFiles = (set: TestCertificates) => ["--tls-cert", set.server.certFile, "--tls-key", set.server.keyFile];
const clientTls = (set: TestCertificates, name?: string) => {
  const pair = name === undefined ? undefined : set.clients[name]!;
  return { ca: set.ca, ...(pair === undefined ? {} : { cert: pair.cert, key: pair.key }) };
};
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: "127.0.0.1", port, ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** How long an error may take to be "quick": well under the 5 s connect timeout it would otherwise hit. */
const QUICK_MS = 3000;

describe("TLS through the switchyard-broker CLI", () => {
  it("carries small and 20 MiB bodies over tls:// both ways, and says tls and the certificate's expiry when it starts", async () => {
    const broker = await startBrokerCli(serverFiles(certs));
    expect(broker.note).toMatch(/^ \(tls, certificate CN=switchyard-broker expires \d{4}-\d\d-\d\dT[\d:.]+Z, client auth none\)$/);
    const address = `tls://127.0.0.1:${broker.port}`;
    const channelId = channel();
    await provider(address, channelId, (payload) => (payload.length < 100 ? `tls: ${payload}` : Buffer.from(payload).reverse()), { tls: clientTls(certs) });
    const sender = await consumer(address, channelId, { tls: clientTls(certs) });
    expect(String(await sender.send("hello"))).toBe("tls: hello");
    const small = await Promise.all(Array.from({ length: 200 }, (_, i) => sender.send(`n${i}`, 20_000)));
    expect(small.map(String)).toEqual(Array.from({ length: 200 }, (_, i) => `tls: n${i}`));
    const big = patterned(7, 20 * MiB);
    const back = await sender.send(big, 60_000);
    expect(back.length).toBe(big.length);
    expect(patternMismatch(Buffer.from(back).reverse())).toBeNull();
  });

  it("with --tls-client-auth require, serves a client with a certificate from --tls-ca and refuses one without, with CONNECT_FAILED saying what to check", async () => {
    const broker = await startBrokerCli([...serverFiles(certs), "--tls-ca", certs.caFile, "--tls-client-auth", "require"]);
    const address = `tls://localhost:${broker.port}`;
    const channelId = channel();
    await provider(address, channelId, (payload) => `mtls: ${payload}`, { tls: clientTls(certs, "billing-worker") });
    const sender = await consumer(address, channelId, { tls: clientTls(certs, "billing-api") });
    expect(String(await sender.send("hi"))).toBe("mtls: hi");

    const started = Date.now();
    const refused = await Consumer.connect(address, channelId, { ...FAST, tls: clientTls(certs) }).catch((error: unknown) => error) as Error;
    expect(Date.now() - started).toBeLessThan(QUICK_MS);
    expect(refused).toMatchObject({ code: "CONNECT_FAILED", message: expect.stringContaining("refused this client's certificate") });
    expect(refused.message).toContain("check tls.cert and tls.key");
    expect((refused.cause as NodeJS.ErrnoException).code).toMatch(/^ERR_SSL_/);
    expect(String(await sender.send("still here"))).toBe("mtls: still here");
  });

  it("a broker certificate from another CA is refused with CONNECT_FAILED naming tls.ca, Node's error as cause", async () => {
    const broker = await startBrokerCli(serverFiles(certs));
    const refused = await Consumer.connect(`tls://127.0.0.1:${broker.port}`, channel(), { tls: clientTls(otherCa) }).catch((error: unknown) => error) as Error;
    expect(refused).toMatchObject({ code: "CONNECT_FAILED", message: expect.stringContaining("check that the tls.ca option holds the CA") });
    expect((refused.cause as NodeJS.ErrnoException).code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
  });

  it("a plaintext client on the TLS port is told to use tls://, quickly, and the port keeps serving TLS", async () => {
    const broker = await startBrokerCli(serverFiles(certs));
    const started = Date.now();
    const refused = await Consumer.connect(`127.0.0.1:${broker.port}`, channel()).catch((error: unknown) => error) as Error;
    expect(Date.now() - started).toBeLessThan(QUICK_MS);
    expect(refused).toMatchObject({ code: "PROTOCOL_ERROR", message: expect.stringContaining("this broker port speaks TLS: connect with tls://host:port") });
    const channelId = channel();
    await provider(`tls://127.0.0.1:${broker.port}`, channelId, () => "fine", { tls: clientTls(certs) });
    expect(String(await (await consumer(`tls://127.0.0.1:${broker.port}`, channelId, { tls: clientTls(certs) })).send("x"))).toBe("fine");
    expect(broker.stderr()).toContain("a plaintext client connected to this TLS port");
  });

  it("a TLS client on a plaintext port fails quickly with CONNECT_FAILED asking whether it is a plaintext port; tls:// does not fall back", async () => {
    const broker = await startBrokerCli([]);
    const started = Date.now();
    const refused = await Consumer.connect(`tls://127.0.0.1:${broker.port}`, channel(), { tls: clientTls(certs) }).catch((error: unknown) => error) as Error;
    expect(Date.now() - started).toBeLessThan(QUICK_MS);
    expect(refused).toMatchObject({ code: "CONNECT_FAILED", message: expect.stringContaining("is it a plaintext port?") });
  });

  it("serves a renewed certificate after SIGHUP and after its files change, while requests flow: none fails, no connection drops", async () => {
    const rotating = makeTestCertificates();
    try {
      const broker = await startBrokerCli(serverFiles(rotating));
      const address = `tls://127.0.0.1:${broker.port}`;
      const channelId = channel();
      await provider(address, channelId, (payload) => `r: ${payload}`, { tls: clientTls(rotating) });
      const sender = await consumer(address, channelId, { tls: clientTls(rotating) });
      const states: string[] = [];
      const watcher = await consumer(address, channel(), { tls: clientTls(rotating), onStateChange: (state) => states.push(state) });
      let running = true;
      let completed = 0;
      const failures: unknown[] = [];
      const flow = Promise.all(
        Array.from({ length: 8 }, async (_, lane) => {
          for (let i = 0; running; i++) {
            const body = `${lane}/${i}`;
            try {
              const answer = String(await sender.send(body, 20_000));
              if (answer !== `r: ${body}`) failures.push(new Error(`wrong answer ${answer} to ${body}`));
              completed++;
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      );

      const first = await servedFingerprint(broker.port, rotating.ca);
      const atHangup = completed;
      rotating.renewServer();
      broker.child.kill("SIGHUP"); // reload the certificate and the ACL
      await expect.poll(() => servedFingerprint(broker.port, rotating.ca), { timeout: 10_000, interval: 100 }).not.toBe(first);
      const second = await servedFingerprint(broker.port, rotating.ca);
      rotating.renewServer(); // no signal this time: the file watcher notices
      await expect.poll(() => servedFingerprint(broker.port, rotating.ca), { timeout: 15_000, interval: 200 }).not.toBe(second);
      await expect.poll(() => completed, { timeout: 10_000 }).toBeGreaterThan(atHangup + 100);
      running = false;
      await flow;
      expect(failures).toEqual([]);
      expect(states).toEqual(["open"]); // the idle client never lost its connection after it opened
      expect(watcher.state).toBe("open");
      expect(broker.stderr()).toContain("TLS certificate loaded");
    } finally {
      rotating.remove();
    }
  }, 60_000);
});

describe("per-channel permissions (--acl) through the switchyard-broker CLI", () => {
  const billing = channel();
  const reports = channel();
  const secret = channel();
  const apiToken = "billing-api-token-8c1f";
  const opsToken = "ops-token-77ab";
  const acl = (apiConsumes: string[]) => ({
    principals: [
      { name: "billing-api", tokenSha256: sha256(apiToken), consume: apiConsumes },
      { name: "billing-worker", certSubject: "CN=billing-worker", provide: [billing, reports] },
      { name: "ops", tokenSha256: sha256(opsToken), provide: ["*"], consume: ["*"], denyConsume: [secret] },
    ],
  });

  /** The issue's own set-up: TLS, client certificates required, an ACL. */
  async function securedBroker(document: { principals: Array<Record<string, unknown>> }, file = "acl.json"): Promise<{ broker: BrokerCli; address: string; aclFile: string }> {
    const aclFile = path.join(certs.dir, file);
    writeFileSync(aclFile, file.endsWith(".json") ? JSON.stringify(document) : toYaml(document));
    const broker = await startBrokerCli([...serverFiles(certs), "--tls-ca", certs.caFile, "--tls-client-auth", "require", "--acl", aclFile]);
    return { broker, address: `tls://127.0.0.1:${broker.port}`, aclFile };
  }

  it("lets in what the ACL allows (token, certificate subject, wildcard) and refuses the rest with FORBIDDEN naming channel and principal, never the token", async () => {
    const { address } = await securedBroker(acl([billing]));
    const worker = clientTls(certs, "billing-worker");
    const api = clientTls(certs, "billing-api");
    await provider(address, billing, (payload) => `billed: ${payload}`, { tls: worker });
    const allowed = await consumer(address, billing, { tls: api, authToken: apiToken });
    expect(String(await allowed.send("invoice 1"))).toBe("billed: invoice 1");
    // wildcard: ops consumes any channel
    const ops = await consumer(address, billing, { tls: api, authToken: opsToken });
    expect(String(await ops.send("audit"))).toBe("billed: audit");

    const forbidden = await Consumer.connect(address, reports, { ...FAST, tls: api, authToken: apiToken }).catch((error: unknown) => error) as Error;
    expect(forbidden).toMatchObject({ code: "FORBIDDEN", wireCode: 15 });
    expect(forbidden.message).toBe(`registration refused: principal "billing-api" may not consume on channel ${reports}`);
    expect(forbidden.message).not.toContain(apiToken);

    // the certificate principal may provide, not consume
    await expect(Consumer.connect(address, billing, { ...FAST, tls: worker })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining('principal "billing-worker" may not consume'),
    });
    // deny wins over ops's "*"
    await expect(Consumer.connect(address, secret, { ...FAST, tls: api, authToken: opsToken })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: `registration refused: principal "ops" may not consume on channel ${secret} (denied)`,
    });
    // a token no principal has: UNAUTHORIZED
    await expect(Consumer.connect(address, billing, { ...FAST, tls: api, authToken: "guess" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(String(await allowed.send("invoice 2"))).toBe("billed: invoice 2");
  });

  it("on SIGHUP re-reads a YAML ACL: a connection whose rights are withdrawn is closed with FORBIDDEN, the others and their requests in flight are untouched", async () => {
    const { broker, aclFile } = await securedBroker(acl([billing, reports]), "acl.yaml");
    const address = `tls://127.0.0.1:${broker.port}`;
    const worker = clientTls(certs, "billing-worker");
    const api = clientTls(certs, "billing-api");
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await provider(address, billing, async (payload) => {
      if (String(payload) === "slow") await held;
      return `billed: ${payload}`;
    }, { tls: worker });
    await provider(address, reports, (payload) => `report: ${payload}`, { tls: worker });
    const keeps = await consumer(address, billing, { tls: api, authToken: apiToken });
    const errors: Array<Error | undefined> = [];
    const loses = await consumer(address, reports, {
      tls: api,
      authToken: apiToken,
      maxReconnectAttempts: 0,
      onStateChange: (_state, error) => errors.push(error),
    });
    expect(String(await loses.send("r1"))).toBe("report: r1");
    const inFlight = keeps.send("slow", 20_000);

    writeFileSync(aclFile, toYaml(acl([billing])));
    broker.child.kill("SIGHUP"); // reload the certificate and the ACL
    await expect.poll(() => loses.state, { timeout: 10_000 }).toBe("closed");
    const cause = errors.find((error) => error !== undefined)?.cause as { code?: string; message?: string } | undefined;
    expect(cause).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining(`principal "billing-api" may not consume on channel ${reports}`) });
    release();
    expect(String(await inFlight)).toBe("billed: slow");
    expect(keeps.state).toBe("open");
    expect(String(await keeps.send("after"))).toBe("billed: after");
    await expect(Consumer.connect(address, reports, { ...FAST, tls: api, authToken: apiToken })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(broker.stderr()).toContain("ACL reload: rights withdrawn");
  });
});

/** The ACL as YAML, written by hand (the tests must not lean on the broker's own YAML library to make its input). */
function toYaml(document: { principals: Array<Record<string, unknown>> }): string {
  const lines = ["principals:"];
  for (const principal of document.principals) {
    let first = true;
    for (const [key, value] of Object.entries(principal)) {
      const text = Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(", ")}]` : JSON.stringify(value);
      lines.push(`${first ? "  - " : "    "}${key}: ${text}`);
      first = false;
    }
  }
  return `${lines.join("\n")}\n`;
}
