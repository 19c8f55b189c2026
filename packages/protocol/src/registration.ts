import { ID_SIZE, PROTOCOL_VERSION, Role } from "./constants.js";
import { MAX_WINDOW, MIN_STREAM_WINDOW } from "./credit.js";
import { BrokerError, InvalidArgumentError } from "./errors.js";
import type { ProtocolVersion } from "./protocol-version.js";
import { clampTimeout } from "./request-head.js";

/** Registration extension tags (docs/protocol.md §1.5 "Registration"); unknown tags are skipped. */
export const RegistrationTag = {
  AUTH_TOKEN: 1,
  CLIENT_NAME: 2,
  CAPACITY: 3,
  /** `major u8, minor u8`: in a registration the highest version the client speaks; in an ack the version the connection uses. */
  PROTOCOL_VERSION: 4,
  /**
   * 1.1, u32: the initial window, in body bytes, the sender grants each stream it receives on this
   * connection (docs/protocol.md §1.20): a client's for the bodies the broker sends it, the broker's
   * (in its ack) for the bodies it receives. MIN_STREAM_WINDOW ..= MAX_WINDOW.
   */
  STREAM_WINDOW: 5,
} as const;

/** The first frame's payload on every connection. */
export interface Registration {
  role: Role;
  /** Default request timeout of this connection, in ms. */
  timeoutMs: number;
  /** 16 bytes, chosen by the client, unique per instance. */
  clientId: Buffer;
  /** 16 bytes. */
  channelId: Buffer;
  authToken?: string;
  clientName?: string;
  /** Providers: most requests handled at once. */
  capacity?: number;
  /** The highest protocol version the client speaks (extension 4); absent: 1.0. */
  version?: ProtocolVersion;
  /** 1.1: the initial window this client grants each body it receives, bytes (extension 5); absent: DEFAULT_STREAM_WINDOW. */
  streamWindow?: number;
}

/** The broker's answer to a registration. */
export interface RegistrationAck {
  /** Byte 0: the major version, `1` (a 1.0 client reads only this). */
  protocolVersion: number;
  maxPayload: number;
  serverId: Buffer;
  /**
   * The version the connection uses (extension 4 after the fixed 21 bytes). A 1.1 broker sends it
   * only to a client whose registration announced a version; absent, the connection speaks 1.0.
   */
  version?: ProtocolVersion;
  /**
   * 1.1: the initial window the broker grants each body it receives on this connection, bytes
   * (extension 5); absent: DEFAULT_STREAM_WINDOW. Sent only on a connection that negotiated 1.1.
   */
  streamWindow?: number;
}

const FIXED_SIZE = 1 + 4 + ID_SIZE + ID_SIZE;
const ACK_FIXED_SIZE = 1 + 4 + ID_SIZE;
const TLV_HEAD = 3;
const MAX_TLV_VALUE = 0xffff;

/**
 * Encodes a registration payload with its extensions. An id that is not 16 bytes, or an
 * extension (authToken, clientName) over 65535 bytes of UTF-8, throws InvalidArgumentError.
 */
export function encodeRegistration(registration: Registration): Buffer {
  const extensions: Buffer[] = [];
  if (registration.authToken !== undefined) extensions.push(tlv(RegistrationTag.AUTH_TOKEN, "authToken", Buffer.from(registration.authToken, "utf8")));
  if (registration.clientName !== undefined) extensions.push(tlv(RegistrationTag.CLIENT_NAME, "clientName", Buffer.from(registration.clientName, "utf8")));
  if (registration.capacity !== undefined) {
    const value = Buffer.allocUnsafe(4);
    value.writeUInt32BE(registration.capacity, 0);
    extensions.push(tlv(RegistrationTag.CAPACITY, "capacity", value));
  }
  if (registration.version !== undefined) extensions.push(versionTlv(registration.version));
  if (registration.streamWindow !== undefined) extensions.push(windowTlv(registration.streamWindow));
  const fixed = Buffer.allocUnsafe(FIXED_SIZE);
  fixed[0] = registration.role;
  fixed.writeUInt32BE(clampTimeout(registration.timeoutMs), 1);
  fixed.set(checkId(registration.clientId, "clientId"), 5);
  fixed.set(checkId(registration.channelId, "channelId"), 5 + ID_SIZE);
  return Buffer.concat([fixed, ...extensions]);
}

/** Decodes a registration payload; anything unreadable throws BrokerError(BAD_REGISTRATION). */
export function decodeRegistration(payload: Buffer): Registration {
  if (payload.length < FIXED_SIZE) bad(`payload of ${payload.length} bytes is shorter than the ${FIXED_SIZE} fixed bytes`);
  const role = payload[0]!;
  if (role !== Role.CONSUMER && role !== Role.PROVIDER) bad(`unknown role ${role} (1 = consumer, 2 = provider)`);
  const registration: Registration = {
    role: role as Role,
    timeoutMs: payload.readUInt32BE(1),
    clientId: Buffer.from(payload.subarray(5, 5 + ID_SIZE)),
    channelId: Buffer.from(payload.subarray(5 + ID_SIZE, FIXED_SIZE)),
  };
  readExtensions(payload, FIXED_SIZE, (tag, value) => readExtension(registration, tag, value));
  return registration;
}

/** Calls `onExtension` for each `tag u8, length u16, value` from `offset` to the end; a truncated one is BAD_REGISTRATION. */
function readExtensions(payload: Buffer, offset: number, onExtension: (tag: number, value: Buffer) => void): void {
  while (offset < payload.length) {
    if (payload.length - offset < TLV_HEAD) bad(`truncated extension header at byte ${offset}`);
    const tag = payload[offset]!;
    const length = payload.readUInt16BE(offset + 1);
    const start = offset + TLV_HEAD;
    if (payload.length - start < length) bad(`extension ${tag} declares ${length} bytes but ${payload.length - start} remain`);
    onExtension(tag, payload.subarray(start, start + length));
    offset = start + length;
  }
}

function readExtension(registration: Registration, tag: number, value: Buffer): void {
  switch (tag) {
    case RegistrationTag.AUTH_TOKEN:
      registration.authToken = value.toString("utf8");
      return;
    case RegistrationTag.CLIENT_NAME:
      registration.clientName = value.toString("utf8");
      return;
    case RegistrationTag.CAPACITY:
      if (value.length !== 4) bad(`capacity extension must be 4 bytes, got ${value.length}`);
      registration.capacity = value.readUInt32BE(0);
      return;
    case RegistrationTag.PROTOCOL_VERSION:
      registration.version = readVersion(value);
      return;
    case RegistrationTag.STREAM_WINDOW:
      registration.streamWindow = readWindow(value);
      return;
    default:
      return; // unknown tags are skipped, as docs/protocol.md §1.5 requires
  }
}

/**
 * Encodes the broker's registration ack: protocolVersion u8, maxPayload u32, serverId 16, then the
 * version extension when `ack.version` is set (only for a client that announced its own), then the
 * stream window extension when `ack.streamWindow` is set too (only on a 1.1 connection).
 */
export function encodeRegistrationAck(ack: RegistrationAck): Buffer {
  const out = Buffer.allocUnsafe(ACK_FIXED_SIZE);
  out[0] = ack.protocolVersion;
  out.writeUInt32BE(ack.maxPayload, 1);
  out.set(checkId(ack.serverId, "serverId"), 5);
  if (ack.version === undefined) return out;
  return ack.streamWindow === undefined ? Buffer.concat([out, versionTlv(ack.version)]) : Buffer.concat([out, versionTlv(ack.version), windowTlv(ack.streamWindow)]);
}

/**
 * Decodes a registration ack: its 21 fixed bytes and the extensions after them (unknown tags
 * skipped). A short ack, a truncated extension, a version extension that is not 2 bytes or a
 * stream window that is not 4 bytes within MIN_STREAM_WINDOW ..= MAX_WINDOW throws
 * BrokerError(BAD_REGISTRATION).
 */
export function decodeRegistrationAck(payload: Buffer): RegistrationAck {
  if (payload.length < ACK_FIXED_SIZE) bad(`ack of ${payload.length} bytes is shorter than ${ACK_FIXED_SIZE}`);
  const ack: RegistrationAck = {
    protocolVersion: payload[0] ?? PROTOCOL_VERSION,
    maxPayload: payload.readUInt32BE(1),
    serverId: Buffer.from(payload.subarray(5, 5 + ID_SIZE)),
  };
  readExtensions(payload, ACK_FIXED_SIZE, (tag, value) => {
    if (tag === RegistrationTag.PROTOCOL_VERSION) ack.version = readVersion(value);
    else if (tag === RegistrationTag.STREAM_WINDOW) ack.streamWindow = readWindow(value);
  });
  return ack;
}

/** The version extension: `major u8, minor u8`. */
function versionTlv(version: ProtocolVersion): Buffer {
  const { major, minor } = version;
  if (!(Number.isInteger(major) && major >= 1 && major <= 0xff && Number.isInteger(minor) && minor >= 0 && minor <= 0xff)) {
    throw new InvalidArgumentError(`protocol version ${major}.${minor} is not two bytes (major 1..255, minor 0..255)`);
  }
  return tlv(RegistrationTag.PROTOCOL_VERSION, "version", Buffer.from([major, minor]));
}

function readVersion(value: Buffer): ProtocolVersion {
  if (value.length !== 2) bad(`protocol version extension must be 2 bytes, got ${value.length}`);
  if (value[0] === 0) bad("protocol version 0.x does not exist");
  return { major: value[0]!, minor: value[1]! };
}

/** The stream window extension: u32, MIN_STREAM_WINDOW ..= MAX_WINDOW. */
function windowTlv(window: number): Buffer {
  if (!validWindow(window)) throw new InvalidArgumentError(`a stream window must be an integer in ${MIN_STREAM_WINDOW}..${MAX_WINDOW} bytes, got ${window}`);
  const value = Buffer.allocUnsafe(4);
  value.writeUInt32BE(window, 0);
  return tlv(RegistrationTag.STREAM_WINDOW, "streamWindow", value);
}

function readWindow(value: Buffer): number {
  if (value.length !== 4) bad(`stream window extension must be 4 bytes, got ${value.length}`);
  const window = value.readUInt32BE(0);
  if (!validWindow(window)) bad(`stream window of ${window} bytes is outside ${MIN_STREAM_WINDOW}..${MAX_WINDOW}`);
  return window;
}

function validWindow(window: number): boolean {
  return Number.isInteger(window) && window >= MIN_STREAM_WINDOW && window <= MAX_WINDOW;
}

function tlv(tag: number, name: string, value: Buffer): Buffer {
  if (value.length > MAX_TLV_VALUE) {
    throw new InvalidArgumentError(`${name} of ${value.length} bytes (UTF-8) exceeds the ${MAX_TLV_VALUE} bytes a registration extension can carry`);
  }
  const head = Buffer.allocUnsafe(TLV_HEAD);
  head[0] = tag;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function checkId(id: Uint8Array, what: string): Uint8Array {
  if (id.length !== ID_SIZE) throw new InvalidArgumentError(`${what} must be ${ID_SIZE} bytes, got ${id.length}`);
  return id;
}

function bad(why: string): never {
  throw new BrokerError("BAD_REGISTRATION", `registration refused: ${why}`);
}
