import { afterAll, describe, expect, it } from "vitest";
import { createAnetServer, tcpFactory } from "../src/index.js";
import { makeTestCertificates, onCleanup } from "@switchyard/testing";
import { startBroker, startServer } from "./helpers.js";

const certs = makeTestCertificates("hsm-client");
const otherCa = makeTestCertificates();
afterAll(() => {
  certs.remove();
  otherCa.remove();
});

const serverTls = { cert: certs.server.cert, key: certs.server.key };
const echo = async (body: Buffer) => Buffer.concat([Buffer.from("echo:"), body]);

describe("anet over TLS", () => {
  it("a Broker dialling tls://host:port gets its answers over TLS", async () => {
    const address = await startServer(echo, { tls: serverTls });
    const broker = startBroker([`tls://${address}`], { factory: { tls: { ca: certs.ca } } });
    const answers = await Promise.all([1, 2, 3].map((n) => broker.send(Buffer.from(`req${n}`), { timeout: 5000 })));
    expect(answers.map(String)).toEqual(["echo:req1", "echo:req2", "echo:req3"]);
  });

  it("the tls option turns a host:port address into TLS; localhost is checked against the certificate's names", async () => {
    const address = await startServer(echo, { tls: serverTls });
    const socket = await tcpFactory({ tls: { ca: certs.ca } })(address.replace("127.0.0.1", "localhost"));
    onCleanup(() => void socket.destroy());
    expect(socket.constructor.name).toBe("TLSSocket");
    expect((socket as import("node:tls").TLSSocket).getProtocol()).toMatch(/^TLSv1\.[23]$/);
  });

  it("a server certificate from another CA is refused with CONNECT_FAILED saying to check tls.ca, Node's error as cause", async () => {
    const address = await startServer(echo, { tls: serverTls });
    const dial = tcpFactory({ tls: { ca: otherCa.ca } })(`tls://${address}`);
    await expect(dial).rejects.toMatchObject({
      code: "CONNECT_FAILED",
      message: expect.stringContaining("check that the tls.ca option holds the CA"),
      cause: expect.objectContaining({ code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/) }),
    });
  });

  it("a tls:// address never falls back to plaintext: tls: false with it is INVALID_ARGUMENT", async () => {
    await expect( tcpFactory({ tls: false })("tls://127.0.0.1:1")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("mutual TLS: with clientAuth require, a client certificate from the CA is served and a client without one loses its request with the server's refusal as cause", async () => {
    const address = await startServer(echo, { tls: { ...serverTls, ca: certs.ca, clientAuth: "require" } });
    const client = certs.clients["hsm-client"]!;
    const withCert = startBroker([`tls://${address}`], { factory: { tls: { ca: certs.ca, cert: client.cert, key: client.key } } });
    expect(String(await withCert.send(Buffer.from("hi"), { timeout: 5000 }))).toBe("echo:hi");

    const without = startBroker([`tls://${address}`], { factory: { tls: { ca: certs.ca } } });
    const refused = await without.send(Buffer.from("hi"), { timeout: 5000 }).catch((error: unknown) => error);
    // TLS 1.3: the client's handshake ends before the server checks its certificate, so the refusal
    // arrives as the connection's end, with the request on it
    expect(refused).toMatchObject({ code: "CONNECTION_LOST", cause: expect.objectContaining({ code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" }) });
  });

  it("createAnetServer refuses a key that does not match its certificate, with INVALID_ARGUMENT", () => {
    expect(() => createAnetServer(echo, { tls: { cert: certs.server.cert, key: certs.clients["hsm-client"]!.key } })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("createAnetServer option tls") }),
    );
    expect(() => createAnetServer(echo, { tls: { ...serverTls, clientAuth: "require" } })).toThrow(/needs createAnetServer option tls.ca/);
  });
});
