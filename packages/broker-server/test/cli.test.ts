import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FrameType, newId } from "@switchyard/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { RawClient } from "./raw-client.js";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/switchyard-broker.js");
const children: ChildProcess[] = [];
const clients: RawClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listening(broker: Run): Promise<{ host: string; port: number }> {
  await expect.poll(() => broker.stdout(), { timeout: 10_000 }).toMatch(/\n/);
  const match = /^switchyard-broker listening on (\d+\.\d+\.\d+\.\d+):(\d+)\n$/.exec(broker.stdout());
  if (match === null) throw new Error(`unexpected startup output: ${JSON.stringify(broker.stdout())}`);
  return { host: match[1]!, port: Number(match[2]) };
}

async function client(port: number): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  clients.push(raw);
  return raw;
}

describe("switchyard-broker CLI", () => {
  it("prints its address with the real port for --port 0, routes requests, and exits 0 after SIGTERM", async () => {
    const broker = run(["--port", "0", "--log-level", "silent"]);
    const { host, port } = await listening(broker);
    expect(host).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    const channelId = newId();
    const provider = await (await client(port)).register({ role: "provider", channelId });
    const consumer = await (await client(port)).register({ role: "consumer", channelId });
    const id = consumer.request("through the CLI");
    provider.respond(await provider.nextOf(FrameType.START), "ok");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("ok");
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
    await consumer.waitClosed();
  });

  it("on SIGINT lets an in-flight request finish before exiting 0", async () => {
    const broker = run(["--port", "0"]);
    const { port } = await listening(broker);
    const channelId = newId();
    const provider = await (await client(port)).register({ role: "provider", channelId });
    const consumer = await (await client(port)).register({ role: "consumer", channelId });
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

  it("reads settings from SWITCHYARD_* variables, flags winning", async () => {
    const broker = run(["--port", "0"], { SWITCHYARD_PORT: "1", SWITCHYARD_AUTH_TOKENS: "tok", SWITCHYARD_LOG_LEVEL: "silent" });
    const { port } = await listening(broker);
    const refused = await client(port);
    const answer = await refused.registerRaw({ role: "consumer", channelId: newId() });
    expect(answer.type).toBe(FrameType.ERROR);
    await (await client(port)).register({ role: "consumer", channelId: newId(), authToken: "tok" });
    expect(broker.stderr()).toBe("");
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
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
});
