import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionLeakError } from "./leak-check.js";
import { TrackedServer } from "./tracked-server.js";

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("TrackedServer", () => {
  it("stop() fails with ConnectionLeakError naming the connection a test left open, and closes it all the same", async () => {
    const server = await TrackedServer.listen(() => {}, { name: "leaky test server" });
    const leaked = await dial(server.port);
    const leakedPort = leaked.localPort;
    const closed = new Promise((resolve) => leaked.once("close", resolve));
    await expect.poll(() => server.openConnections()).toBe(1);
    const error = await server.stop(100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLeakError);
    expect(error).toMatchObject({ code: "CONNECTION_LEAK", open: 1 });
    expect((error as Error).message).toMatch(new RegExp(`^leaky test server still holds 1 connection 100 ms after the test ended: from 127\\.0\\.0\\.1:${leakedPort}\\.`));
    await closed; // the server destroyed its side: the leaked client sees the close
    expect(server.openConnections()).toBe(0);
  });

  it("stop() passes when every client closed, even one that closes during the grace period", async () => {
    const server = await TrackedServer.listen(() => {});
    const client = await dial(server.port);
    await expect.poll(() => server.openConnections()).toBe(1);
    setTimeout(() => client.end(), 50);
    await expect(server.stop(2000)).resolves.toBeUndefined();
  });

  it("crash() drops every connection without checking, and the port can be listened on again", async () => {
    const server = await TrackedServer.listen((socket) => socket.write("hello"));
    const client = (await dial(server.port)).resume();
    const closed = new Promise((resolve) => client.once("close", resolve));
    await expect.poll(() => server.openConnections()).toBe(1);
    await server.crash();
    expect(server.openConnections()).toBe(0);
    await closed;
    const again = await TrackedServer.listen(() => {}, { port: server.port });
    expect(again.port).toBe(server.port);
    await again.stop();
  });
});
