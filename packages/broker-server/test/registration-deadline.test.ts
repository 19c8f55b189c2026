import { CONNECTION_ID, decodeErrorBody, encodeFrame, encodeRegistration, FrameFlags, FrameType, newId, Role } from "@switchyard/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";
import { RawClient } from "@switchyard/testing";

const h = useBrokerHarness();
const opened: RawClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.destroy();
});

async function connectFrom(port: number, localAddress: string): Promise<RawClient> {
  const client = await RawClient.connect(port, "127.0.0.1", localAddress);
  opened.push(client);
  return client;
}

describe("registration deadline and per-address share of unregistered connections", () => {
  it("closes a socket that trickles its registration a byte at a time at the registration deadline, telling it NOT_REGISTERED", async () => {
    const registrationTimeout = 600;
    const server = await h.start({ registrationTimeout });
    const slow = await h.client(server);
    const registration = Buffer.concat(
      encodeFrame(FrameType.START, FrameFlags.REGISTRATION, newId(), encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId: newId(), channelId: newId() })),
    );
    const connectedAt = performance.now();
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < registration.length && !slow.isClosed) slow.sendRaw(registration.subarray(sent, ++sent));
    }, 50);
    try {
      await slow.waitClosed(registrationTimeout * 5);
    } finally {
      clearInterval(trickle);
    }
    const closedAfter = performance.now() - connectedAt;
    // the broker's deadline runs from its accept, a little before the client's connect resolved here
    expect(closedAfter).toBeGreaterThanOrEqual(registrationTimeout * 0.9);
    expect(closedAfter).toBeLessThan(registrationTimeout * 3);
    expect(sent).toBeLessThan(registration.length); // it never finished: the bytes it sent did not buy it time
    const notice = slow.inbox.find((frame) => frame.type === FrameType.ERROR && frame.requestId.equals(CONNECTION_ID));
    expect(decodeErrorBody(notice!.payload)).toMatchObject({ code: "NOT_REGISTERED", message: expect.stringContaining(`${registrationTimeout} ms`) });
    await expect.poll(() => server.stats()).toMatchObject({ connections: 0, errorsSent: expect.objectContaining({ NOT_REGISTERED: 1 }) });
    await h.expectHealthy(server);
  });

  it("keeps a registered connection past the registration deadline", async () => {
    const registrationTimeout = 200;
    const { server, provider, consumer } = await h.pair({ registrationTimeout });
    await new Promise((resolve) => setTimeout(resolve, registrationTimeout * 3));
    expect(provider.isClosed || consumer.isClosed).toBe(false);
    const id = consumer.request("still here?");
    provider.respond(await provider.nextOf(FrameType.START), "yes");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("yes");
    expect(server.stats().errorsSent.NOT_REGISTERED).toBe(0);
  });

  it("one address's unregistered sockets cannot fill the connection limit: past its share they are closed at once, and another address still connects and registers", async () => {
    const maxConnections = 12;
    const maxUnregisteredPerAddress = 4;
    const server = await h.start({ maxConnections, maxUnregisteredPerAddress, registrationTimeout: 60_000 });
    const { port } = server.address();
    const flood = await Promise.all(Array.from({ length: maxConnections }, () => connectFrom(port, "127.0.0.1")));
    await expect.poll(() => flood.filter((client) => client.isClosed).length).toBe(maxConnections - maxUnregisteredPerAddress);
    expect(server.stats()).toMatchObject({ connections: maxUnregisteredPerAddress, refusedConnections: maxConnections - maxUnregisteredPerAddress });

    const other = await connectFrom(port, "127.0.0.2");
    const channelId = newId();
    await other.register({ role: "provider", channelId });
    // the flooding address may still register on a connection it already has, and that frees its share
    await flood.find((client) => !client.isClosed)!.register({ role: "consumer", channelId });
    const again = await connectFrom(port, "127.0.0.1");
    await again.register({ role: "consumer", channelId });
    expect(server.stats()).toMatchObject({ connections: maxUnregisteredPerAddress + 2, consumers: 2, providers: 1 });
  });
});
