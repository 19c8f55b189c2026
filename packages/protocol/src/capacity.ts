import { InvalidArgumentError, ProtocolError } from "./errors.js";

/** Bytes of a CAPACITY frame's payload: the connection's new capacity, u32. */
export const CAPACITY_SIZE = 4;

/** Largest capacity a CAPACITY frame (or the registration's capacity extension) can carry: 2^32 − 1. */
export const MAX_CAPACITY = 0xffff_ffff;

/**
 * The payload of a CAPACITY frame setting a provider connection's capacity to `capacity`
 * (0 ..= 2^32 − 1: 0 pauses the connection, docs/protocol.md §1.21); anything else is the caller's
 * mistake (InvalidArgumentError).
 */
export function encodeCapacity(capacity: number): Buffer {
  if (!(Number.isInteger(capacity) && capacity >= 0 && capacity <= MAX_CAPACITY)) {
    throw new InvalidArgumentError(`a capacity must be an integer in 0..${MAX_CAPACITY}, got ${capacity}`);
  }
  const payload = Buffer.allocUnsafe(CAPACITY_SIZE);
  payload.writeUInt32BE(capacity, 0);
  return payload;
}

/** The capacity a CAPACITY payload sets, 0 ..= 2^32 − 1. A payload that is not exactly 4 bytes throws ProtocolError. */
export function decodeCapacity(payload: Uint8Array): number {
  if (payload.length !== CAPACITY_SIZE) throw new ProtocolError(`a CAPACITY payload is ${CAPACITY_SIZE} bytes, got ${payload.length}`);
  return new DataView(payload.buffer, payload.byteOffset, CAPACITY_SIZE).getUint32(0);
}
