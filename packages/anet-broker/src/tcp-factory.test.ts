import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { isSocketUsable, tcpFactory } from "./tcp-factory.js";

describe("tcpFactory", () => {
  it("dials with NODELAY and keepalive, and the socket survives an error while unused", async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const socket = await tcpFactory()(`127.0.0.1:${port}`);
      // The server resets it at once; nobody listens for 'error' but the factory's quiet listener.
      await new Promise((resolve) => socket.once("close", resolve));
      expect(isSocketUsable(socket)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("maps a refused dial to CONNECT_FAILED with Node's error as cause", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    await expect(tcpFactory()(`127.0.0.1:${port}`)).rejects.toMatchObject({ code: "CONNECT_FAILED", cause: { code: "ECONNREFUSED" } });
  });

  it("gives up a dial whose signal aborts", async () => {
    await expect(tcpFactory()("127.0.0.1:9", AbortSignal.abort())).rejects.toMatchObject({ code: "CONNECT_FAILED" });
  });
});
