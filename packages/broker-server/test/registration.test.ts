import {
  CONNECTION_ID,
  decodeErrorBody,
  decodeRegistrationAck,
  encodeRequestHead,
  FrameFlags,
  FrameType,
  HEADER_SIZE,
  idToString,
  MAX_PAYLOAD,
  newId,
  newIdString,
} from "@switchyard/protocol";
import { describe, expect, it } from "vitest";
import { useBrokerHarness } from "./harness.js";

const h = useBrokerHarness();

describe("registration", () => {
  it("acks a registration with the same requestId, the protocol version, maxPayload and the server id", async () => {
    const serverId = newIdString();
    const server = await h.start({ serverId, maxPayloadBytes: 512 * 1024 });
    const client = await h.client(server);
    const requestId = newId();
    const ack = await client.registerRaw({ role: "consumer", channelId: newId() }, requestId);
    expect(ack.type).toBe(FrameType.RESPONSE);
    expect(ack.flags & FrameFlags.REGISTRATION).toBe(FrameFlags.REGISTRATION);
    expect(ack.requestId.equals(requestId)).toBe(true);
    const decoded = decodeRegistrationAck(ack.payload);
    expect(decoded).toMatchObject({ protocolVersion: 1, maxPayload: 512 * 1024 });
    expect(idToString(decoded.serverId)).toBe(serverId);
    expect(server.stats()).toMatchObject({ connections: 1, consumers: 1, providers: 0, channels: 1 });
  });

  it("answers a frame before registration with NOT_REGISTERED on that frame's id and closes the connection", async () => {
    const server = await h.start();
    const client = await h.client(server);
    const requestId = newId();
    client.send(FrameType.START, FrameFlags.FINAL, requestId, encodeRequestHead(0), Buffer.from("hi"));
    expect((await client.nextError(requestId)).code).toBe("NOT_REGISTERED");
    await client.waitClosed();
    expect(server.stats().errorsSent.NOT_REGISTERED).toBe(1);
    await h.expectHealthy(server);
  });

  it("answers a PING before registration with NOT_REGISTERED too", async () => {
    const server = await h.start();
    const client = await h.client(server);
    const requestId = newId();
    client.send(FrameType.PING, 0, requestId, Buffer.from("x"));
    expect((await client.nextError(requestId)).code).toBe("NOT_REGISTERED");
    await client.waitClosed();
  });

  it("a half-open provider's client reconnecting at once with the same clientId takes over: the old connection is told DUPLICATE_CLIENT and closed, its requests fail with PROVIDER_GONE, new ones go to the new connection", async () => {
    const server = await h.start();
    const channelId = newId();
    const clientId = newId();
    const old = await h.provider(server, channelId, { clientId }); // its socket stays open, but it answers nothing from now on
    const consumer = await h.consumer(server, channelId);
    const held = consumer.request("held by the old connection", 30_000);
    await old.nextOf(FrameType.START);
    const successor = await h.client(server);
    const answer = await successor.registerRaw({ role: "provider", channelId, clientId });
    expect(answer.type).toBe(FrameType.RESPONSE);
    expect((await consumer.nextError(held)).code).toBe("PROVIDER_GONE");
    const notice = await old.nextOf(FrameType.ERROR, CONNECTION_ID);
    expect(decodeErrorBody(notice.payload).code).toBe("DUPLICATE_CLIENT");
    await old.waitClosed();
    const id = consumer.request("for the new connection");
    const start = await successor.nextOf(FrameType.START);
    successor.respond(start, "from the new one");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("from the new one");
    expect(server.stats()).toMatchObject({ providers: 1, consumers: 1, inFlight: 0, errorsSent: expect.objectContaining({ DUPLICATE_CLIENT: 1, PROVIDER_GONE: 1 }) });
  });

  it("a half-open consumer's client reconnecting with the same clientId takes over: the old one's requests are cancelled at the provider", async () => {
    const server = await h.start();
    const channelId = newId();
    const clientId = newId();
    const provider = await h.provider(server, channelId);
    const old = await h.consumer(server, channelId, { clientId });
    old.request("the old connection's", 30_000);
    const start = await provider.nextOf(FrameType.START);
    const successor = await h.consumer(server, channelId, { clientId });
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await old.waitClosed();
    // the provider's late answer to the old request reaches nobody, and the new connection works
    provider.respond(start, "too late");
    expect((await provider.nextError(start.requestId)).code).toBe("BAD_ROUTE");
    const id = successor.request("mine");
    provider.respond(await provider.nextOf(FrameType.START), "yours");
    expect((await successor.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("yours");
    await successor.expectNothing((frame) => frame.type !== FrameType.RESPONSE);
    expect(server.stats()).toMatchObject({ consumers: 1, providers: 1, inFlight: 0 });
  });

  it("a provider taking over keeps its channel's waiting requests: they go to the new connection, not NO_PROVIDER", async () => {
    const server = await h.start();
    const channelId = newId();
    const clientId = newId();
    const old = await h.provider(server, channelId, { clientId, capacity: 1 });
    const consumer = await h.consumer(server, channelId);
    const first = consumer.request("first", 30_000);
    const waiting = consumer.request("waiting", 30_000);
    await old.nextOf(FrameType.START);
    await expect.poll(() => server.stats().queued).toBe(1);
    const successor = await h.provider(server, channelId, { clientId, capacity: 1 });
    expect((await consumer.nextError(first)).code).toBe("PROVIDER_GONE");
    const start = await successor.nextOf(FrameType.START);
    successor.respond(start, "served after the takeover");
    expect((await consumer.nextOf(FrameType.RESPONSE, waiting)).payload.toString()).toBe("served after the takeover");
  });

  it("a clientId is taken over only by its own principal: another auth token is refused with DUPLICATE_CLIENT, the same token takes over", async () => {
    const server = await h.start({ authTokens: ["alpha", "beta"] });
    const channelId = newId();
    const clientId = newId();
    const first = await h.provider(server, channelId, { clientId, authToken: "alpha" });
    const other = await h.client(server);
    const refused = await other.registerRaw({ role: "provider", channelId, clientId, authToken: "beta" });
    expect(decodeErrorBody(refused.payload)).toMatchObject({ code: "DUPLICATE_CLIENT", message: expect.stringContaining("another principal") });
    await other.waitClosed();
    await first.expectNothing();
    expect(first.isClosed).toBe(false);
    const same = await h.client(server);
    expect((await same.registerRaw({ role: "provider", channelId, clientId, authToken: "alpha" })).type).toBe(FrameType.RESPONSE);
    await first.waitClosed();
    expect(server.stats()).toMatchObject({ providers: 1 });
  });

  it("a takeover still needs a valid auth token", async () => {
    const server = await h.start({ authTokens: ["right"] });
    const channelId = newId();
    const clientId = newId();
    const first = await h.provider(server, channelId, { clientId, authToken: "right" });
    const intruder = await h.client(server);
    const answer = await intruder.registerRaw({ role: "provider", channelId, clientId, authToken: "wrong" });
    expect(decodeErrorBody(answer.payload).code).toBe("UNAUTHORIZED");
    await intruder.waitClosed();
    await first.expectNothing();
    expect(first.isClosed).toBe(false);
    expect(server.stats().providers).toBe(1);
  });

  it("refuses an unreadable registration with BAD_REGISTRATION", async () => {
    const server = await h.start();
    const client = await h.client(server);
    const requestId = newId();
    client.send(FrameType.START, FrameFlags.REGISTRATION, requestId, Buffer.from([9, 0, 0]));
    expect((await client.nextError(requestId)).code).toBe("BAD_REGISTRATION");
    await client.waitClosed();
    await h.expectHealthy(server);
  });

  it("refuses a provider declaring capacity 0 with BAD_REGISTRATION", async () => {
    const server = await h.start();
    const client = await h.client(server);
    const answer = await client.registerRaw({ role: "provider", channelId: newId(), capacity: 0 });
    expect(decodeErrorBody(answer.payload).code).toBe("BAD_REGISTRATION");
  });

  it("with authTokens, refuses a registration without a known token with UNAUTHORIZED and accepts one with it", async () => {
    const server = await h.start({ authTokens: ["s3cret", "other"] });
    const channelId = newId();
    const missing = await h.client(server);
    expect(decodeErrorBody((await missing.registerRaw({ role: "provider", channelId })).payload).code).toBe("UNAUTHORIZED");
    await missing.waitClosed();
    const wrong = await h.client(server);
    expect(decodeErrorBody((await wrong.registerRaw({ role: "provider", channelId, authToken: "s3cre" })).payload).code).toBe("UNAUTHORIZED");
    await wrong.waitClosed();
    const provider = await h.provider(server, channelId, { authToken: "s3cret" });
    const consumer = await h.consumer(server, channelId, { authToken: "other" });
    const id = consumer.request("authorised");
    provider.respond(await provider.nextOf(FrameType.START), "ok");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("ok");
    expect(server.stats().errorsSent.UNAUTHORIZED).toBe(2);
  });

  it("closes connections beyond maxConnections at once, counts them, and keeps serving the others", async () => {
    const server = await h.start({ maxConnections: 4 });
    const channelId = newId();
    const provider = await h.provider(server, channelId);
    const consumer = await h.consumer(server, channelId);
    const third = await h.consumer(server, newId());
    const fourth = await h.client(server);
    const refused = await h.client(server);
    await refused.waitClosed();
    expect(fourth.isClosed).toBe(false);
    expect(server.stats().refusedConnections).toBe(1);
    expect(server.stats().connections).toBe(4);
    const id = consumer.request("still");
    provider.respond(await provider.nextOf(FrameType.START), "here");
    expect((await consumer.nextOf(FrameType.RESPONSE, id)).payload.toString()).toBe("here");
    // once two leave, new connections are accepted again
    third.destroy();
    fourth.destroy();
    await expect.poll(() => server.stats().connections).toBe(2);
    await h.expectHealthy(server);
  });
});

describe("bad input", () => {
  it("answers garbage bytes with PROTOCOL_ERROR on requestId zero and closes only that connection", async () => {
    const server = await h.start();
    const client = await h.client(server);
    client.sendRaw(Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
    const error = await client.next((frame) => frame.type === FrameType.ERROR);
    expect(error.requestId.equals(Buffer.alloc(16))).toBe(true);
    expect(decodeErrorBody(error.payload).code).toBe("PROTOCOL_ERROR");
    await client.waitClosed();
    await h.expectHealthy(server);
  });

  it("answers a frame with a bad version, after registration, with PROTOCOL_ERROR and fails nothing else", async () => {
    const server = await h.start();
    const consumer = await h.consumer(server, newId());
    const frame = Buffer.alloc(HEADER_SIZE);
    frame[0] = 2;
    frame[1] = FrameType.PING;
    consumer.sendRaw(frame);
    expect((await consumer.nextError()).code).toBe("PROTOCOL_ERROR");
    await consumer.waitClosed();
    expect(server.stats().errorsSent.PROTOCOL_ERROR).toBe(1); // found by the decoder
    await h.expectHealthy(server);
  });

  it("answers an oversized length with PROTOCOL_ERROR before reading the payload", async () => {
    const server = await h.start();
    const provider = await h.provider(server, newId());
    const frame = Buffer.alloc(HEADER_SIZE);
    frame[0] = 1;
    frame[1] = FrameType.RESPONSE;
    frame.writeUInt32BE(MAX_PAYLOAD + 1, 20);
    provider.sendRaw(frame);
    expect((await provider.nextError()).code).toBe("PROTOCOL_ERROR");
    await provider.waitClosed();
    await h.expectHealthy(server);
  });

  it("answers a consumer sending a second registration with PROTOCOL_ERROR", async () => {
    const server = await h.start();
    const consumer = await h.consumer(server, newId());
    consumer.registerRaw({ role: "consumer", channelId: newId() }).catch(() => {});
    expect((await consumer.nextError()).code).toBe("PROTOCOL_ERROR");
    await consumer.waitClosed();
    expect(server.stats().errorsSent.PROTOCOL_ERROR).toBe(1); // found by the router
  });

  it("closes a consumer reusing the requestId of one of its live requests with PROTOCOL_ERROR, cancelling that request", async () => {
    const server = await h.start();
    const channelId = newId();
    const provider = await h.provider(server, channelId);
    const consumer = await h.consumer(server, channelId);
    const id = consumer.request("first");
    const start = await provider.nextOf(FrameType.START);
    consumer.request("second, same id", 0, id);
    expect((await consumer.nextError()).code).toBe("PROTOCOL_ERROR");
    await consumer.waitClosed();
    await provider.nextOf(FrameType.CANCEL, start.requestId);
    await h.expectHealthy(server);
  });

  it("closes a consumer sending CHUNK after its request's END with PROTOCOL_ERROR", async () => {
    const server = await h.start();
    const channelId = newId();
    await h.provider(server, channelId);
    const consumer = await h.consumer(server, channelId);
    const id = newId();
    consumer.send(FrameType.START, 0, id, encodeRequestHead(0), Buffer.from("a"));
    consumer.send(FrameType.END, 0, id);
    consumer.send(FrameType.CHUNK, 0, id, Buffer.from("b"));
    expect((await consumer.nextError()).code).toBe("PROTOCOL_ERROR");
    await consumer.waitClosed();
  });

  it("answers PING with PONG carrying the same requestId and payload, for either role", async () => {
    const server = await h.start();
    const channelId = newId();
    for (const client of [await h.consumer(server, channelId), await h.provider(server, channelId)]) {
      const requestId = newId();
      client.send(FrameType.PING, 0, requestId, Buffer.from("opaque-bytes"));
      const pong = await client.nextOf(FrameType.PONG, requestId);
      expect(pong.payload.toString()).toBe("opaque-bytes");
    }
  });
});
