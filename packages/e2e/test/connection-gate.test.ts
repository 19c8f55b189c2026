import { connect, type Socket } from "node:net";
import { Consumer } from "@switchyard/client-consumer";
import { Provider } from "@switchyard/client-provider";
import { randomUUID as newIdString } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { BrokerServer, type BrokerServerOptions } from "@switchyard/broker-server";
import { brokerLeakCheck, closeAfterTest, makeTestCertificates, onCleanup } from "@switchyard/testing";

const certs = makeTestCertificates("client");
const stranger = makeTestCertificates("client");
afterAll(() => {
  certs.remove();
  stranger.remove();
});


async function broker(options: BrokerServerOptions): Promise<BrokerServer> {
  const server = new BrokerServer({ host: "127.0.0.1", port: 0, ...options });
  await server.start();
  closeAfterTest(brokerLeakCheck(server)); // after its clients: fails the test if one is left open
  return server;
}

/** A raw TCP connection; resolves once connected. `closed` resolves with the ms it stayed open. */
async function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ host: "127.0.0.1", port });
  onCleanup(() => {
    socket.destroy();
  });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  const opened = Date.now();
  return { socket, closed: new Promise((resolve) => socket.once("close", () => resolve(Date.now() - opened))) };
}

const tls = { cert: certs.server.cert, key: certs.server.key };
const FAST = { closeTimeout: 200, connectTimeout: 3000 };

describe("the connection gate", () => {
  it("on a TLS port, closes a connection that sends nothing within handshakeTimeout and counts it refused", async () => {
    const server = await broker({ tls, handshakeTimeout: 300 });
    const { closed } = await rawSocket(server.address().port);
    const openFor = await closed;
    expect(openFor).toBeGreaterThanOrEqual(250);
    expect(openFor).toBeLessThan(5000);
    expect(server.stats().refusedConnections).toBe(1);
  });

  it("closes a TLS client that starts a handshake and stalls, within the handshake timeout", async () => {
    const server = await broker({ tls, handshakeTimeout: 300 });
    const { socket, closed } = await rawSocket(server.address().port);
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40])); // the start of a ClientHello record, then silence
    const openFor = await closed;
    expect(openFor).toBeGreaterThanOrEqual(250);
    expect(openFor).toBeLessThan(5000);
  });

  it("counts connections in their handshake against maxConnections: a stalled one holds the only slot until it times out", async () => {
    const server = await broker({ tls, maxConnections: 1, handshakeTimeout: 1000 });
    const { port } = server.address();
    const stalled = await rawSocket(port);
    stalled.socket.write(Buffer.from([0x16]));
    await expect(Consumer.connect(`tls://127.0.0.1:${port}`, newIdString(), { ...FAST, tls: { ca: certs.ca } })).rejects.toMatchObject({ code: "CONNECT_FAILED" });
    await stalled.closed;
    const channelId = newIdString();
    const consumer = await Consumer.connect(`tls://127.0.0.1:${port}`, channelId, { ...FAST, tls: { ca: certs.ca } });
    onCleanup(() => consumer.close());
    expect(consumer.state).toBe("open");
    expect(server.stats().refusedConnections).toBeGreaterThanOrEqual(2);
  });

  it("counts TLS handshakes against the address's share of unregistered connections and their registration deadline", async () => {
    const server = await broker({ tls, maxUnregisteredPerAddress: 2, registrationTimeout: 600, handshakeTimeout: 30_000 });
    const { port } = server.address();
    const stalled = [await rawSocket(port), await rawSocket(port)];
    for (const { socket } of stalled) socket.write(Buffer.from([0x16]));
    const third = await rawSocket(port);
    expect(await third.closed).toBeLessThan(2000); // refused at once: the address has no room
    expect(server.stats().refusedConnections).toBe(1);
    for (const { closed } of stalled) {
      const openFor = await closed; // the registration deadline, not the 30 s handshake timeout
      expect(openFor).toBeGreaterThanOrEqual(400);
      expect(openFor).toBeLessThan(10_000);
    }
    const consumer = await Consumer.connect(`tls://127.0.0.1:${port}`, newIdString(), { ...FAST, tls: { ca: certs.ca } });
    onCleanup(() => consumer.close());
    expect(consumer.state).toBe("open"); // the share is free again
  });

  it('with clientAuth "request" lets in a client without a certificate and refuses one whose certificate does not verify, with UNAUTHORIZED', async () => {
    const server = await broker({ tls: { ...tls, ca: certs.ca, clientAuth: "request" } });
    const address = `tls://127.0.0.1:${server.address().port}`;
    const channelId = newIdString();
    const provider = await Provider.connect(address, channelId, () => "ok", { ...FAST, tls: { ca: certs.ca } });
    onCleanup(() => provider.close());
    const own = certs.clients.client!;
    const consumer = await Consumer.connect(address, channelId, { ...FAST, tls: { ca: certs.ca, cert: own.cert, key: own.key } });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("x"))).toBe("ok");
    const foreign = stranger.clients.client!;
    await expect(Consumer.connect(address, channelId, { ...FAST, tls: { ca: certs.ca, cert: foreign.cert, key: foreign.key } })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining("the client certificate did not verify"),
    });
  });

  it("setTls serves a new certificate to new connections, keeps the open ones, and refuses a key that does not match, keeping the old", async () => {
    const server = await broker({ tls });
    const address = `tls://127.0.0.1:${server.address().port}`;
    const channelId = newIdString();
    const provider = await Provider.connect(address, channelId, () => "ok", { ...FAST, tls: { ca: certs.ca } });
    onCleanup(() => provider.close());
    const before = server.tls!.validTo;
    expect(() => server.setTls({ cert: stranger.server.cert, key: certs.server.key })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    server.setTls({ cert: stranger.server.cert, key: stranger.server.key });
    expect(server.tls!.validTo.getTime()).toBeGreaterThanOrEqual(before.getTime());
    await expect(Consumer.connect(address, channelId, { ...FAST, tls: { ca: certs.ca } })).rejects.toMatchObject({ code: "CONNECT_FAILED" });
    const consumer = await Consumer.connect(address, channelId, { ...FAST, tls: { ca: stranger.ca } });
    onCleanup(() => consumer.close());
    expect(String(await consumer.send("x"))).toBe("ok"); // the provider's connection, made before, still serves
  });

  it("refuses TLS options it cannot use with INVALID_ARGUMENT at construction", () => {
    expect(() => new BrokerServer({ tls: { cert: certs.server.cert, key: stranger.server.key } })).toThrow(/tls: the certificate or key cannot be used/);
    expect(() => new BrokerServer({ tls: { ...tls, clientAuth: "require" } })).toThrow(/needs tls.ca/);
    expect(() => new BrokerServer({ tls: { ...tls, clientAuth: "maybe" as "none" } })).toThrow(/tls.clientAuth must be one of none, request, require/);
    expect(() => new BrokerServer().setTls(tls)).toThrow(/created without the tls option/);
  });
});
