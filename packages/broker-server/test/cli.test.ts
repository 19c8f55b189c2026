import { FrameType, newId } from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useCliBrokers } from "./cli-broker.js";

const { run, listening, client } = useCliBrokers();

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
