import {
  BrokerError,
  CONNECTION_ID,
  decodeRegistration,
  type Frame,
  FrameFlags,
  FrameType,
  InvalidArgumentError,
  idToString,
  newId,
  newIdString,
  Role,
} from "@switchyard/protocol";
import { FakeBroker, type FakePeer } from "@switchyard/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BaseClient, type ClientHooks } from "../../src/client/base-client.js";
import type { ClientOptions } from "../../src/client/client-options.js";
import { ConnectError, type DisconnectedError } from "../../src/errors.js";

function hooks(overrides: Partial<ClientHooks> = {}): ClientHooks & { disconnects: DisconnectedError[]; frames: Frame[] } {
  const disconnects: DisconnectedError[] = [];
  const frames: Frame[] = [];
  return {
    disconnects,
    frames,
    onFrame: (frame) => frames.push(frame),
    onDisconnect: (error) => disconnects.push(error),
    onClosing: () => {},
    whenIdle: () => Promise.resolve(),
    onClose: () => {},
    ...overrides,
  };
}

describe("BaseClient", () => {
  let broker: FakeBroker;
  const clients: BaseClient[] = [];
  const channelId = newIdString();

  function client(options: ClientOptions = {}, given = hooks(), role: Role = Role.PROVIDER): BaseClient {
    const created = new BaseClient(broker.address, { role, channelId, capacity: 9 }, given, { reconnectDelay: 10, maxReconnectDelay: 50, ...options });
    clients.push(created);
    return created;
  }

  /** The client's connection as the broker holds it. */
  const firstPeer = (): FakePeer => broker.peers[0]!;

  beforeEach(async () => {
    broker = await new FakeBroker().start(0);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker.stop();
  });

  it("registers with START|REGISTRATION carrying role, default timeout, ids and extensions, and opens on the ack", async () => {
    const clientId = newIdString();
    const c = client({ clientId, timeout: 2500, authToken: "secret", clientName: "unit" });
    expect(c.state).toBe("connecting");
    await c.open();
    expect(c.state).toBe("open");
    const [registration] = broker.typed(FrameType.START);
    expect(registration!.flags & FrameFlags.REGISTRATION).toBe(FrameFlags.REGISTRATION);
    expect(decodeRegistration(registration!.payload)).toMatchObject({ role: Role.PROVIDER, timeoutMs: 2500, authToken: "secret", clientName: "unit", capacity: 9 });
    expect(idToString(decodeRegistration(registration!.payload).clientId)).toBe(clientId);
    expect(idToString(decodeRegistration(registration!.payload).channelId)).toBe(channelId);
    expect(c.serverId).toBe(idToString(broker.serverId));
  });

  it("frames by the maxPayload the broker announced", async () => {
    broker.maxPayload = 4096;
    const c = client();
    await c.open();
    expect(c.maxPayload).toBe(4096);
  });

  it("announces protocol 1.1 and uses the version the ack names; a 1.0 ack (no version) means 1.0", async () => {
    const c = client();
    await c.open();
    expect(decodeRegistration(broker.typed(FrameType.START)[0]!.payload).version).toEqual({ major: 1, minor: 1 });
    expect(c.protocolVersion).toEqual({ major: 1, minor: 0 });
    broker.ackVersion = { major: 1, minor: 1 };
    const d = client();
    await d.open();
    expect(d.protocolVersion).toEqual({ major: 1, minor: 1 });
  });

  it("refuses an ack naming a version newer than it announced with PROTOCOL_ERROR, and ends closed", async () => {
    broker.ackVersion = { major: 1, minor: 2 };
    const c = client();
    const error = await c.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PROTOCOL_ERROR", message: expect.stringContaining("protocol 1.2, newer than the 1.1 this client announced") });
    expect(c.state).toBe("closed");
  });

  it("ignores frames other than its ack while registering", async () => {
    broker.intercept = (frame, peer) => {
      peer.sendFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, newId(), Buffer.alloc(21));
      peer.sendFrame(FrameType.RESPONSE, 0, frame.requestId, Buffer.from("not an ack"));
      return false; // then the fake acks it
    };
    const c = client();
    await c.open();
    expect(c.state).toBe("open");
  });

  it("rejects open() with the broker's refusal and ends closed", async () => {
    broker.refuse("DUPLICATE_CLIENT", 1, "already here");
    const c = client();
    const error = await c.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "DUPLICATE_CLIENT", message: "already here" });
    expect(c.state).toBe("closed");
  });

  it("rejects open() with CONNECT_FAILED when the broker never answers within connectTimeout", async () => {
    broker.intercept = () => true; // answers nothing
    const c = client({ connectTimeout: 100 });
    await expect(c.open()).rejects.toBeInstanceOf(ConnectError);
    expect(c.state).toBe("closed");
  });

  it("rejects open() with ABORTED when its signal aborts", async () => {
    broker.intercept = () => true;
    const controller = new AbortController();
    const c = client({ signal: controller.signal });
    const opening = c.open();
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await expect(opening).rejects.toMatchObject({ code: "ABORTED", cause: { message: "stop" } });
  });

  it("answers the broker's PING with a PONG carrying the same id and payload, and keeps it from the role", async () => {
    const given = hooks();
    const c = client({}, given);
    await c.open();
    const id = newId();
    firstPeer().sendFrame(FrameType.PING, 0, id, Buffer.from("opaque"));
    await vi.waitFor(() => expect(broker.typed(FrameType.PONG)).toHaveLength(1));
    const [pong] = broker.typed(FrameType.PONG);
    expect(pong!.requestId).toBe(id.toString("hex"));
    expect(pong!.payload.toString()).toBe("opaque");
    expect(given.frames).toEqual([]);
  });

  it("PINGs an idle connection every pingInterval", async () => {
    const c = client({ pingInterval: 30 });
    await c.open();
    await vi.waitFor(() => expect(broker.typed(FrameType.PING).length).toBeGreaterThanOrEqual(2));
    expect(broker.typed(FrameType.PING)[0]!.requestId).toBe(CONNECTION_ID.toString("hex"));
  });

  it("notices a broker gone silent (half-open) at its read timeout though it keeps PINGing it, and registers again", async () => {
    const given = hooks();
    const c = client({ pingInterval: 40, readTimeout: 400 }, given);
    await c.open();
    const openedAt = performance.now();
    // the broker acks, then answers nothing more on that connection: not even the client's PINGs
    broker.intercept = () => true;
    await vi.waitFor(() => expect(given.disconnects).toHaveLength(1), { timeout: 5000 });
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(380);
    expect(given.disconnects[0]!.cause).toMatchObject({ code: "IDLE_TIMEOUT" });
    expect(broker.typed(FrameType.PING).length).toBeGreaterThanOrEqual(3); // it kept writing all along
    broker.intercept = null;
    await vi.waitFor(() => expect(c.state).toBe("open"), { timeout: 5000 });
    expect(broker.registrations).toHaveLength(2);
  });

  it("passes the role's frames on, but not connection-level errors", async () => {
    const given = hooks();
    const c = client({}, given);
    await c.open();
    firstPeer().sendFrame(FrameType.START, 0, newId(), Buffer.alloc(36));
    firstPeer().sendError(CONNECTION_ID, new BrokerError("SHUTTING_DOWN", "draining"));
    await vi.waitFor(() => expect(given.frames).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(given.frames.map((f) => f.type)).toEqual([FrameType.START]);
    expect(c.state).toBe("open");
  });

  it("on ERROR(PROTOCOL_ERROR) about the connection, reports the loss with that cause and registers again", async () => {
    const given = hooks();
    const states: string[] = [];
    const c = client({ onStateChange: (state) => states.push(state) }, given);
    await c.open();
    firstPeer().sendError(CONNECTION_ID, new BrokerError("PROTOCOL_ERROR", "bad frame"));
    await vi.waitFor(() => expect(given.disconnects).toHaveLength(1));
    expect(given.disconnects[0]).toMatchObject({ code: "DISCONNECTED", cause: { code: "PROTOCOL_ERROR" } });
    await vi.waitFor(() => expect(c.state).toBe("open"));
    expect(broker.typed(FrameType.START)).toHaveLength(2);
    expect(states).toEqual(["open", "reconnecting", "open"]);
  });

  it("on ERROR(DUPLICATE_CLIENT) about the connection (another connection took its clientId over), reports the loss and closes instead of taking it back", async () => {
    const given = hooks();
    const states: string[] = [];
    const c = client({ onStateChange: (state) => states.push(state) }, given);
    await c.open();
    firstPeer().sendError(CONNECTION_ID, new BrokerError("DUPLICATE_CLIENT", "taken over"));
    await vi.waitFor(() => expect(c.state).toBe("closed"));
    expect(given.disconnects[0]).toMatchObject({ code: "DISCONNECTED", cause: { code: "DUPLICATE_CLIENT" } });
    await new Promise((resolve) => setTimeout(resolve, 100)); // longer than the reconnect delay
    expect(broker.typed(FrameType.START)).toHaveLength(1);
    expect(states).toEqual(["open", "closed"]);
  });

  it("close() tells the role in order — closing, wait for idle, fail the rest — ends the connection, and is idempotent", async () => {
    const calls: string[] = [];
    const c = client(
      {},
      hooks({
        onClosing: () => calls.push("closing"),
        whenIdle: async () => {
          calls.push("whenIdle");
        },
        onClose: (error) => calls.push(`onClose:${error.code}`),
      }),
    );
    await c.open();
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(calls).toEqual(["closing", "whenIdle", "onClose:CLOSED"]);
    expect(c.state).toBe("closed");
    expect(c.connection).toBeNull();
    await vi.waitFor(() => expect(broker.openConnections()).toBe(0));
  });

  it("close() stops waiting for work in flight after closeTimeout", async () => {
    const c = client({ closeTimeout: 50 }, hooks({ whenIdle: () => new Promise(() => {}) }));
    await c.open();
    const started = performance.now();
    await c.close();
    expect(performance.now() - started).toBeLessThan(5000);
    expect(c.state).toBe("closed");
  });

  it.each<[string, ClientOptions]>([
    ["pingInterval", { pingInterval: -1 }],
    ["clientId", { clientId: "not-a-uuid" }],
    ["timeout", { timeout: 0 }],
    ["maxReconnectAttempts", { maxReconnectAttempts: 1.5 }],
    ["writeTimeout", { writeTimeout: Number.NaN }],
  ])("refuses a bad %s at construction, naming it", (name, options) => {
    expect(() => client(options)).toThrow(InvalidArgumentError);
    expect(() => client(options)).toThrow(new RegExp(name));
  });
});
