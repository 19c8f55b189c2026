import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { isSocketUsable, parseAddress, tcpFactory } from "./tcp-factory.js";

describe("parseAddress", () => {
  it("reads host:port and bracketed IPv6", () => {
    expect(parseAddress("127.0.0.1:3000")).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(parseAddress("hsm.local:1500")).toEqual({ host: "hsm.local", port: 1500 });
    expect(parseAddress("[::1]:3000")).toEqual({ host: "::1", port: 3000 });
  });

  it("refuses what is not host:port, naming the address", () => {
    for (const bad of ["", "localhost", ":3000", "host:", "host:70000", "host:3.5"]) {
      expect(() => parseAddress(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});

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
