import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONNECTION_ID, decodeErrorBody, FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { RawClient, useBrokerProcesses } from "@switchyard/testing";

const { run } = useBrokerProcesses();
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packageVersion: string = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")).version;

describe("switchyard-broker CLI", () => {
  it("prints its address with the real port for --port 0, routes requests, and exits 0 after SIGTERM", async () => {
    const broker = run(["--port", "0", "--log-level", "silent"]);
    const { host, port } = await broker.listening();
    expect(host).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    const channelId = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId });
    const id = consumer.request("through the CLI");
    provider.respond(await provider.nextOf(FrameType.START), "ok");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("ok");
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
    await consumer.waitClosed();
  });

  it("on SIGINT lets an in-flight request finish before exiting 0", async () => {
    const broker = run(["--port", "0"]);
    const { port } = await broker.listening();
    const channelId = newId();
    const provider = await (await RawClient.open(port)).register({ role: "provider", channelId });
    const consumer = await (await RawClient.open(port)).register({ role: "consumer", channelId });
    const id = consumer.request("slow", 5000);
    const start = await provider.nextOf(FrameType.START);
    broker.child.kill("SIGINT");
    await expect.poll(() => broker.stderr()).toMatch(/draining/);
    expect(broker.child.exitCode).toBe(null);
    provider.respond(start, "made it");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("made it");
    expect(await broker.exited).toBe(0);
    expect(broker.stderr()).toMatch(/"msg":"broker stopped"/);
  });

  it("closes a socket that does not register within --registration-timeout-ms (or SWITCHYARD_REGISTRATION_TIMEOUT_MS)", async () => {
    for (const [args, env] of [
      [["--registration-timeout-ms", "300"], {}],
      [[], { SWITCHYARD_REGISTRATION_TIMEOUT_MS: "300" }],
    ] as const) {
      const broker = run(["--port", "0", "--log-level", "silent", ...args], env);
      const { port } = await broker.listening();
      const silent = await RawClient.open(port);
      const connectedAt = performance.now();
      await silent.waitClosed(5000);
      expect(performance.now() - connectedAt).toBeGreaterThanOrEqual(280);
      expect((await silent.nextError(CONNECTION_ID)).code).toBe("NOT_REGISTERED");
      broker.child.kill("SIGTERM");
      expect(await broker.exited).toBe(0);
    }
  });

  it("accepts 50 re-registrations with one clientId, each right after the previous connection was closed cleanly", async () => {
    const broker = run(["--port", "0", "--log-level", "silent"]);
    const { port } = await broker.listening();
    const channelId = newId();
    const clientId = newId();
    const refusals: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const raw = await RawClient.open(port);
      const answer = await raw.registerRaw({ role: attempt % 2 === 0 ? "provider" : "consumer", channelId, clientId });
      if (answer.type === FrameType.ERROR) refusals.push(decodeErrorBody(answer.payload).code);
      // a clean close (FIN), and the next registration at once: the broker may not have read the FIN yet
      raw.socket.end();
    }
    expect(refusals).toEqual([]);
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
  });

  it("reads settings from SWITCHYARD_* variables, flags winning", async () => {
    const broker = run(["--port", "0"], { SWITCHYARD_PORT: "1", SWITCHYARD_AUTH_TOKENS: "tok", SWITCHYARD_LOG_LEVEL: "silent" });
    const { port } = await broker.listening();
    const refused = await RawClient.open(port);
    const answer = await refused.registerRaw({ role: "consumer", channelId: newId() });
    expect(answer.type).toBe(FrameType.ERROR);
    await (await RawClient.open(port)).register({ role: "consumer", channelId: newId(), authToken: "tok" });
    expect(broker.stderr()).toBe("");
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
  });

  it("takes tokens from --auth-token-file, keeping them out of the process list", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "switchyard-tokens-"));
    try {
      const file = path.join(dir, "tokens");
      writeFileSync(file, "# one token a line\nfile-token\n\n");
      const broker = run(["--port", "0", "--log-level", "silent", "--auth-token-file", file]);
      const { port } = await broker.listening();
      const refused = await (await RawClient.open(port)).registerRaw({ role: "consumer", channelId: newId(), authToken: "other" });
      expect(decodeErrorBody(refused.payload).code).toBe("UNAUTHORIZED");
      await (await RawClient.open(port)).register({ role: "consumer", channelId: newId(), authToken: "file-token" });
      broker.child.kill("SIGTERM");
      expect(await broker.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 1 naming a TLS or ACL file it cannot read", async () => {
    const missingCert = run(["--port", "0", "--tls-cert", "/no/such/cert.pem", "--tls-key", "/no/such/key.pem"]);
    expect(await missingCert.exited).toBe(1);
    expect(missingCert.stderr()).toContain("cannot read the TLS certificate file /no/such/cert.pem: ENOENT");
    const missingAcl = run(["--port", "0", "--acl", "/no/such/acl.yaml"]);
    expect(await missingAcl.exited).toBe(1);
    expect(missingAcl.stderr()).toContain("cannot read the ACL file /no/such/acl.yaml: ENOENT");
  });

  it("exits 2 for --tls-key without --tls-cert", async () => {
    const broker = run(["--port", "0", "--tls-key", "k.pem"]);
    expect(await broker.exited).toBe(2);
    expect(broker.stderr()).toContain("--tls-cert and --tls-key go together");
  });

  it("prints usage for --help and exits 0", async () => {
    const broker = run(["--help"]);
    expect(await broker.exited).toBe(0);
    expect(broker.stdout()).toMatch(/^Usage: switchyard-broker/);
    expect(broker.stdout()).toMatch(/--max-queued-requests <n>/);
    expect(broker.stdout()).toMatch(/SWITCHYARD_REQUEST_TIMEOUT_MS/);
  });

  it("exits 2 naming the flag for a bad value", async () => {
    const broker = run(["--port", "0", "--max-queued-requests", "lots"]);
    expect(await broker.exited).toBe(2);
    expect(broker.stderr()).toMatch(/--max-queued-requests/);
  });

  it("prints the package's version for --version and exits 0", async () => {
    const broker = run(["--version"]);
    expect(await broker.exited).toBe(0);
    expect(broker.stdout()).toBe(`${packageVersion}\n`);
    expect(broker.stderr()).toBe("");
  });

  it.each<{ what: string; args: string[]; env: Record<string, string>; names: string }>([
    { what: "a server id that is not a UUID", args: ["--server-id", "notauuid"], env: {}, names: "--server-id" },
    { what: "a server id variable that is not a UUID", args: [], env: { SWITCHYARD_SERVER_ID: "notauuid" }, names: "SWITCHYARD_SERVER_ID" },
    { what: "an unknown flag", args: ["--no-such-flag"], env: {}, names: "--no-such-flag" },
    { what: "a flag without its value", args: ["--port"], env: {}, names: "--port" },
    { what: "a positional argument", args: ["9090"], env: {}, names: "9090" },
    { what: "a port out of range", args: ["--port", "70000"], env: {}, names: "--port" },
    { what: "a number that is not one", args: ["--max-queued-requests", "lots"], env: {}, names: "--max-queued-requests" },
    { what: "a number variable that is not one", args: [], env: { SWITCHYARD_READ_TIMEOUT_MS: "soon" }, names: "SWITCHYARD_READ_TIMEOUT_MS" },
    { what: "an empty host", args: ["--host", ""], env: {}, names: "--host" },
    { what: "an unknown log level", args: ["--log-level", "loud"], env: {}, names: "--log-level" },
  ])("$what is one line on stderr naming $names, exit 2, and nothing starts", async ({ args, env, names }) => {
    const broker = run(["--port", "0", ...args], env);
    expect(await broker.exited).toBe(2);
    expect(broker.stdout()).toBe("");
    const stderr = broker.stderr();
    expect(stderr).toMatch(/^switchyard-broker: [^\n]+\n$/);
    expect(stderr).toContain(names);
    expect(stderr).toContain("--help");
  });

  it("a port in use is reported once, in one line saying what to do, exit 1", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = holder.address() as AddressInfo;
      const broker = run(["--port", String(port)]); // default log level: info
      expect(await broker.exited).toBe(1);
      expect(broker.stdout()).toBe("");
      expect(broker.stderr()).toBe(`switchyard-broker: cannot listen on 127.0.0.1:${port}: EADDRINUSE (another process holds the port: stop it, or choose another port)\n`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
