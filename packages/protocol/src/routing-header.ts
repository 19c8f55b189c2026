import { ID_SIZE, ROUTING_HEADER_SIZE } from "./constants.js";
import { InvalidArgumentError, ProtocolError } from "./errors.js";

/** The 32-byte routing header: who asked (clientId) on which channel (channelId). */
export interface RoutingHeader {
  clientId: Buffer;
  channelId: Buffer;
}

/** Encodes a routing header: clientId (16) then channelId (16). Ids of another size throw InvalidArgumentError. */
export function encodeRoutingHeader(clientId: Uint8Array, channelId: Uint8Array): Buffer {
  if (clientId.length !== ID_SIZE || channelId.length !== ID_SIZE) {
    throw new InvalidArgumentError(`routing header ids must be ${ID_SIZE} bytes each, got ${clientId.length} and ${channelId.length}`);
  }
  const out = Buffer.allocUnsafe(ROUTING_HEADER_SIZE);
  out.set(clientId, 0);
  out.set(channelId, ID_SIZE);
  return out;
}

/** Splits a payload that starts with a routing header; the ids and the rest are views. A short one throws ProtocolError. */
export function decodeRoutingHeader(payload: Buffer): RoutingHeader & { rest: Buffer } {
  if (payload.length < ROUTING_HEADER_SIZE) {
    throw new ProtocolError(`payload of ${payload.length} bytes is too short for the ${ROUTING_HEADER_SIZE}-byte routing header`);
  }
  return {
    clientId: payload.subarray(0, ID_SIZE),
    channelId: payload.subarray(ID_SIZE, ROUTING_HEADER_SIZE),
    rest: payload.subarray(ROUTING_HEADER_SIZE),
  };
}
