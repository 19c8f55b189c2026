import { describe, expect, it } from "vitest";
import {
  AnetDecoder,
  BrokerError,
  decodeCredit,
  decodeErrorBody,
  decodeHeaderBlock,
  decodeRegistration,
  decodeRegistrationAck,
  decodeRequestHead,
  decodeRoutingHeader,
  decodeCapacity,
  encodeAnetFrame,
  encodeCapacity,
  encodeCredit,
  encodeErrorBody,
  encodeFrame,
  encodeHeaderBlock,
  encodeRegistration,
  encodeRegistrationAck,
  encodeRequestHead,
  encodeRoutingHeader,
  type Frame,
  FrameDecoder,
  FrameFlags,
  FrameType,
  LATEST_VERSION,
  MAX_PAYLOAD,
  ProtocolError,
  Role,
} from "./index.js";

/*
 * Golden vectors: every expected byte string below is written out by hand from docs/protocol.md, field
 * by field (spaces separate fields), never produced by the code under test. Any change to the wire
 * format breaks one of them.
 *
 * Ids used throughout (as wire bytes):
 *   requestId  00112233445566778899aabbccddeeff
 *   clientId   a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8
 *   channelId  0f0e0d0c0b0a09080706050403020100
 *   serverId   fedcba9876543210fedcba9876543210
 */

/** Bytes of a hex literal whose fields are separated by whitespace. */
function hex(literal: string): Buffer {
  return Buffer.from(literal.replace(/\s+/g, ""), "hex");
}

const requestId = hex("00112233445566778899aabbccddeeff");
const connectionId = Buffer.alloc(16);
const clientId = hex("a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8");
const channelId = hex("0f0e0d0c0b0a09080706050403020100");
const serverId = hex("fedcba9876543210fedcba9876543210");

const registration = {
  role: Role.PROVIDER,
  timeoutMs: 5000,
  clientId,
  channelId,
  authToken: "tok",
  clientName: "svc",
  capacity: 64,
};

/** Decodes `bytes` as a stream that must hold exactly one frame. */
function decodeOne(bytes: Buffer): Frame {
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

interface FrameVector {
  name: string;
  wire: string;
  encode: () => Buffer[];
  /** Checks the decoded frame's payload means what was encoded. */
  payload: (payload: Buffer) => void;
}

const frameVectors: FrameVector[] = [
  {
    name: "START | FINAL carrying a request head (timeoutMs 5000) and the whole body",
    wire: "01 01 0002 00112233445566778899aabbccddeeff 00000006   00001388 6869",
    encode: () => encodeFrame(FrameType.START, FrameFlags.FINAL, requestId, encodeRequestHead(5000), Buffer.from("hi")),
    payload: (p) => {
      const head = decodeRequestHead(p);
      expect(head.timeoutMs).toBe(5000);
      expect(head.body.toString()).toBe("hi");
    },
  },
  {
    name: "START | REGISTRATION carrying a provider registration with all three extensions",
    wire: `01 01 0001 00112233445566778899aabbccddeeff 00000038
           02 00001388 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100
           01 0003 746f6b   02 0003 737663   03 0004 00000040`,
    encode: () => encodeFrame(FrameType.START, FrameFlags.REGISTRATION, requestId, encodeRegistration(registration)),
    payload: (p) => expect(decodeRegistration(p)).toEqual(registration),
  },
  {
    name: "CHUNK carrying request body bytes",
    wire: "01 02 0000 00112233445566778899aabbccddeeff 00000003   616263",
    encode: () => encodeFrame(FrameType.CHUNK, FrameFlags.NONE, requestId, Buffer.from("abc")),
    payload: (p) => expect(p.toString()).toBe("abc"),
  },
  {
    name: "END with an empty payload",
    wire: "01 03 0000 00112233445566778899aabbccddeeff 00000000",
    encode: () => encodeFrame(FrameType.END, FrameFlags.NONE, requestId),
    payload: (p) => expect(p).toHaveLength(0),
  },
  {
    name: "RESPONSE carrying a whole response body",
    wire: "01 04 0000 00112233445566778899aabbccddeeff 00000002   6f6b",
    encode: () => encodeFrame(FrameType.RESPONSE, FrameFlags.NONE, requestId, Buffer.from("ok")),
    payload: (p) => expect(p.toString()).toBe("ok"),
  },
  {
    name: "RESPONSE | REGISTRATION carrying the registration ack",
    wire: `01 04 0001 00112233445566778899aabbccddeeff 00000015
           01 00100000 fedcba9876543210fedcba9876543210`,
    encode: () =>
      encodeFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, requestId, encodeRegistrationAck({ protocolVersion: 1, maxPayload: MAX_PAYLOAD, serverId })),
    payload: (p) => expect(decodeRegistrationAck(p)).toEqual({ protocolVersion: 1, maxPayload: MAX_PAYLOAD, serverId }),
  },
  {
    name: "START | REGISTRATION of a 1.1 consumer: the fixed bytes, then the protocol version extension (tag 4: 1.1)",
    wire: `01 01 0001 00112233445566778899aabbccddeeff 0000002a
           01 00000000 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100   04 0002 01 01`,
    encode: () =>
      encodeFrame(FrameType.START, FrameFlags.REGISTRATION, requestId, encodeRegistration({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version: LATEST_VERSION })),
    payload: (p) => expect(decodeRegistration(p)).toEqual({ role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version: { major: 1, minor: 1 } }),
  },
  {
    name: "RESPONSE | REGISTRATION from a 1.1 broker to a client that announced a version: 21 bytes, then tag 4 with the version the connection uses",
    wire: `01 04 0001 00112233445566778899aabbccddeeff 0000001a
           01 00100000 fedcba9876543210fedcba9876543210   04 0002 01 01`,
    encode: () =>
      encodeFrame(FrameType.RESPONSE, FrameFlags.REGISTRATION, requestId, encodeRegistrationAck({ protocolVersion: 1, maxPayload: MAX_PAYLOAD, serverId, version: LATEST_VERSION })),
    payload: (p) => expect(decodeRegistrationAck(p)).toEqual({ protocolVersion: 1, maxPayload: MAX_PAYLOAD, serverId, version: { major: 1, minor: 1 } }),
  },
  {
    name: "START | FINAL | HEADERS (1.1): request head, header block {x: y}, body",
    wire: "01 01 0006 00112233445566778899aabbccddeeff 0000000d   00001388   0005 01 78 0001 79   6869",
    encode: () => encodeFrame(FrameType.START, FrameFlags.FINAL | FrameFlags.HEADERS, requestId, encodeRequestHead(5000), encodeHeaderBlock({ x: "y" }), Buffer.from("hi")),
    payload: (p) => {
      const { headers, length } = decodeHeaderBlock(p, 4);
      expect({ ...headers }).toEqual({ x: "y" });
      expect(p.subarray(4 + length).toString()).toBe("hi");
    },
  },
  {
    name: "RESPONSE | HEADERS (1.1) from a provider: routing header, header block {x: y}, body",
    wire: `01 04 0004 00112233445566778899aabbccddeeff 00000029
           a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100   0005 01 78 0001 79   6f6b`,
    encode: () => encodeFrame(FrameType.RESPONSE, FrameFlags.HEADERS, requestId, encodeRoutingHeader(clientId, channelId), encodeHeaderBlock({ x: "y" }), Buffer.from("ok")),
    payload: (p) => {
      const { headers, length } = decodeHeaderBlock(decodeRoutingHeader(p).rest, 0);
      expect({ ...headers }).toEqual({ x: "y" });
      expect(p.subarray(32 + length).toString()).toBe("ok");
    },
  },
  {
    name: "ERROR(PROTOCOL_ERROR) on the connection id",
    wire: "01 05 0000 00000000000000000000000000000000 00000005   0001 626164",
    encode: () => encodeFrame(FrameType.ERROR, FrameFlags.NONE, connectionId, encodeErrorBody(new ProtocolError("bad"))),
    payload: (p) => {
      const error = decodeErrorBody(p);
      expect(error).toBeInstanceOf(BrokerError);
      expect([error.code, error.wireCode, error.message]).toEqual(["PROTOCOL_ERROR", 1, "bad"]);
    },
  },
  {
    name: "ERROR(HANDLER_ERROR) from a provider, behind the routing header",
    wire: `01 05 0000 00112233445566778899aabbccddeeff 00000026
           a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100 0007 626f6f6d`,
    encode: () =>
      encodeFrame(
        FrameType.ERROR,
        FrameFlags.NONE,
        requestId,
        encodeRoutingHeader(clientId, channelId),
        encodeErrorBody(new BrokerError("HANDLER_ERROR", "boom")),
      ),
    payload: (p) => {
      const routed = decodeRoutingHeader(p);
      expect([routed.clientId, routed.channelId]).toEqual([clientId, channelId]);
      const error = decodeErrorBody(routed.rest);
      expect([error.code, error.wireCode, error.message]).toEqual(["HANDLER_ERROR", 7, "boom"]);
    },
  },
  {
    name: "RESPONSE_START from a provider: routing header, then the first response bytes",
    wire: `01 06 0000 00112233445566778899aabbccddeeff 00000022
           a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100 6865`,
    encode: () => encodeFrame(FrameType.RESPONSE_START, FrameFlags.NONE, requestId, encodeRoutingHeader(clientId, channelId), Buffer.from("he")),
    payload: (p) => {
      const routed = decodeRoutingHeader(p);
      expect([routed.clientId, routed.channelId, routed.rest.toString()]).toEqual([clientId, channelId, "he"]);
    },
  },
  {
    name: "RESPONSE_CHUNK carrying response body bytes",
    wire: "01 07 0000 00112233445566778899aabbccddeeff 00000003   6c6c6f",
    encode: () => encodeFrame(FrameType.RESPONSE_CHUNK, FrameFlags.NONE, requestId, Buffer.from("llo")),
    payload: (p) => expect(p.toString()).toBe("llo"),
  },
  {
    name: "RESPONSE_END with an empty payload",
    wire: "01 08 0000 00112233445566778899aabbccddeeff 00000000",
    encode: () => encodeFrame(FrameType.RESPONSE_END, FrameFlags.NONE, requestId),
    payload: (p) => expect(p).toHaveLength(0),
  },
  {
    name: "CANCEL with an empty payload",
    wire: "01 09 0000 00112233445566778899aabbccddeeff 00000000",
    encode: () => encodeFrame(FrameType.CANCEL, FrameFlags.NONE, requestId),
    payload: (p) => expect(p).toHaveLength(0),
  },
  {
    name: "PING on the connection id with an opaque payload",
    wire: "01 0a 0000 00000000000000000000000000000000 00000004   deadbeef",
    encode: () => encodeFrame(FrameType.PING, FrameFlags.NONE, connectionId, hex("deadbeef")),
    payload: (p) => expect(p.toString("hex")).toBe("deadbeef"),
  },
  {
    name: "PONG echoing the PING's payload",
    wire: "01 0b 0000 00000000000000000000000000000000 00000004   deadbeef",
    encode: () => encodeFrame(FrameType.PONG, FrameFlags.NONE, connectionId, hex("deadbeef")),
    payload: (p) => expect(p.toString("hex")).toBe("deadbeef"),
  },
  {
    name: "CREDIT (1.1) granting 2 MiB more of a stream's body",
    wire: "01 0c 0000 00112233445566778899aabbccddeeff 00000004   00200000",
    encode: () => encodeFrame(FrameType.CREDIT, FrameFlags.NONE, requestId, encodeCredit(2 * 1024 * 1024)),
    payload: (p) => expect(decodeCredit(p)).toBe(2_097_152),
  },
  {
    name: "CAPACITY (1.1): a provider's connection may now hold 48 requests at once",
    wire: "01 0d 0000 00000000000000000000000000000000 00000004   00000030",
    encode: () => encodeFrame(FrameType.CAPACITY, FrameFlags.NONE, connectionId, encodeCapacity(48)),
    payload: (p) => expect(decodeCapacity(p)).toBe(48),
  },
];

describe("broker frame golden vectors", () => {
  it("cover every frame type of docs/protocol.md and every flag", () => {
    const wires = frameVectors.map((v) => hex(v.wire));
    expect(new Set(wires.map((w) => w[1]))).toEqual(new Set(Object.values(FrameType)));
    expect(new Set(wires.map((w) => w.readUInt16BE(2)))).toEqual(
      new Set([0, FrameFlags.REGISTRATION, FrameFlags.FINAL, FrameFlags.FINAL | FrameFlags.HEADERS, FrameFlags.HEADERS]),
    );
  });

  describe.each(frameVectors)("$name", (vector) => {
    it("encodes to exactly the bytes docs/protocol.md specifies", () => {
      expect(Buffer.concat(vector.encode()).toString("hex")).toBe(hex(vector.wire).toString("hex"));
    });

    it("decodes from those bytes back to the same header fields and payload", () => {
      const wire = hex(vector.wire);
      const frame = decodeOne(wire);
      expect(frame.type).toBe(wire[1]);
      expect(frame.flags).toBe(wire.readUInt16BE(2));
      expect(frame.requestId.toString("hex")).toBe(wire.subarray(4, 20).toString("hex"));
      expect(frame.payload).toHaveLength(wire.length - 24);
      vector.payload(frame.payload);
    });
  });

  it("keeps flag bits it does not know when decoding (receivers ignore them)", () => {
    const frame = decodeOne(hex("01 02 8003 00112233445566778899aabbccddeeff 00000000"));
    expect(frame.flags).toBe(0x8003);
  });
});

describe("payload golden vectors", () => {
  it("a registration payload is role, timeout, clientId, channelId, then tag/len/value extensions", () => {
    const wire = `02 00001388 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100
                  01 0003 746f6b   02 0003 737663   03 0004 00000040`;
    expect(encodeRegistration(registration).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistration(hex(wire))).toEqual(registration);
  });

  it("a consumer registration without extensions is exactly the 37 fixed bytes", () => {
    const consumer = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId };
    const wire = "01 00000000 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100";
    expect(encodeRegistration(consumer).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistration(hex(wire))).toEqual(consumer);
  });

  it("a 1.1 client's registration announces the highest version it speaks in extension 4 (major, minor)", () => {
    const consumer = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version: { major: 1, minor: 1 } };
    const wire = "01 00000000 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100   04 0002 01 01";
    expect(encodeRegistration(consumer).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistration(hex(wire))).toEqual(consumer);
  });

  it("the ack to a client that announced a version carries the version the connection uses behind the 21 fixed bytes", () => {
    const ack = { protocolVersion: 1, maxPayload: 1_048_576, serverId, version: { major: 1, minor: 1 } };
    const wire = "01 00100000 fedcba9876543210fedcba9876543210   04 0002 01 01";
    expect(encodeRegistrationAck(ack).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistrationAck(hex(wire))).toEqual(ack);
    // what a 1.0 client reads of it: byte 0 and the 20 after; the rest it ignores (§1.5)
    expect(hex(wire)[0]).toBe(1);
  });

  it("a 1.1 client announces its initial stream window in extension 5 (u32 bytes), and a 1.1 broker its own in the ack behind the version", () => {
    const consumer = { role: Role.CONSUMER, timeoutMs: 0, clientId, channelId, version: { major: 1, minor: 1 }, streamWindow: 4_194_304 };
    const wire = "01 00000000 a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100   04 0002 01 01   05 0004 00400000";
    expect(encodeRegistration(consumer).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistration(hex(wire))).toEqual(consumer);
    const ack = { protocolVersion: 1, maxPayload: 1_048_576, serverId, version: { major: 1, minor: 1 }, streamWindow: 4_194_304 };
    const ackWire = "01 00100000 fedcba9876543210fedcba9876543210   04 0002 01 01   05 0004 00400000";
    expect(encodeRegistrationAck(ack).toString("hex")).toBe(hex(ackWire).toString("hex"));
    expect(decodeRegistrationAck(hex(ackWire))).toEqual(ack);
  });

  it("a 1.0 broker's ack (no extension) leaves the version unset: the connection speaks 1.0", () => {
    expect(decodeRegistrationAck(hex("01 00100000 fedcba9876543210fedcba9876543210")).version).toBeUndefined();
  });

  it("a registration ack is protocolVersion, maxPayload, serverId", () => {
    const ack = { protocolVersion: 1, maxPayload: 1_048_576, serverId };
    const wire = "01 00100000 fedcba9876543210fedcba9876543210";
    expect(encodeRegistrationAck(ack).toString("hex")).toBe(hex(wire).toString("hex"));
    expect(decodeRegistrationAck(hex(wire))).toEqual(ack);
  });

  it("a routing header is clientId then channelId, 32 bytes", () => {
    const wire = "a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8 0f0e0d0c0b0a09080706050403020100";
    expect(encodeRoutingHeader(clientId, channelId).toString("hex")).toBe(hex(wire).toString("hex"));
    const decoded = decodeRoutingHeader(hex(`${wire} 6f6b`));
    expect([decoded.clientId, decoded.channelId, decoded.rest.toString()]).toEqual([clientId, channelId, "ok"]);
  });

  it("a request head is timeoutMs as u32, body bytes after it", () => {
    expect(encodeRequestHead(70_000).toString("hex")).toBe("00011170");
    const decoded = decodeRequestHead(hex("00011170 6869"));
    expect([decoded.timeoutMs, decoded.body.toString()]).toEqual([70_000, "hi"]);
  });

  it("an error body is code u16, then the UTF-8 message", () => {
    const wire = "0002 6e6f2070726f7669646572";
    expect(encodeErrorBody(new BrokerError("NO_PROVIDER", "no provider")).toString("hex")).toBe(hex(wire).toString("hex"));
    const decoded = decodeErrorBody(hex(wire));
    expect([decoded.code, decoded.wireCode, decoded.message]).toEqual(["NO_PROVIDER", 2, "no provider"]);
  });
});

describe("anet golden vectors", () => {
  it("with the 2-byte prefix a frame is u16 length (task id + body), u32 task id, body", () => {
    const wire = "0008 01020304 70696e67";
    expect(Buffer.concat(encodeAnetFrame(0x01020304, Buffer.from("ping"))).toString("hex")).toBe(hex(wire).toString("hex"));
    const frames = new AnetDecoder().push(hex(wire));
    expect(frames.map((f) => [f.taskId, f.body.toString()])).toEqual([[0x01020304, "ping"]]);
  });

  it("with the 4-byte prefix a frame is u32 length (task id + body), u32 task id, body", () => {
    const wire = "00000008 fffffffe 70696e67";
    const options = { lengthSize: 4 } as const;
    expect(Buffer.concat(encodeAnetFrame(0xfffffffe, Buffer.from("ping"), options)).toString("hex")).toBe(hex(wire).toString("hex"));
    const frames = new AnetDecoder(options).push(hex(wire));
    expect(frames.map((f) => [f.taskId, f.body.toString()])).toEqual([[0xfffffffe, "ping"]]);
  });
});
