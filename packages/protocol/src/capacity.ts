import { decodeU32Payload, encodeU32Payload, U32_PAYLOAD_SIZE } from "./u32-payload.js";

/** Bytes of a CAPACITY frame's payload: the connection's new capacity, u32. */
export const CAPACITY_SIZE = U32_PAYLOAD_SIZE;

/** Largest capacity a CAPACITY frame (or the registration's capacity extension) can carry: 2^32 − 1. */
export const MAX_CAPACITY = 0xffff_ffff;

/**
 * The payload of a CAPACITY frame setting a provider connection's capacity to `capacity`
 * (0 ..= 2^32 − 1: 0 pauses the connection, docs/protocol.md §1.21); anything else is the caller's
 * mistake (InvalidArgumentError).
 */
export function encodeCapacity(capacity: number): Buffer {
  return encodeU32Payload("a capacity", capacity, 0, MAX_CAPACITY);
}

/** The capacity a CAPACITY payload sets, 0 ..= 2^32 − 1. A payload that is not exactly 4 bytes throws ProtocolError. */
export function decodeCapacity(payload: Uint8Array): number {
  return decodeU32Payload("CAPACITY", payload);
}
