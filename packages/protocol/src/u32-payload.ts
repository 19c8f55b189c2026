import { InvalidArgumentError, ProtocolError } from "./errors.js";
import { readWord, writeWord } from "./id-words.js";

/** Bytes of a payload that is one big-endian u32 (CREDIT, CAPACITY). */
export const U32_PAYLOAD_SIZE = 4;

/**
 * The payload of a frame that carries one u32, `value`, which must be an integer in `min ..= max`;
 * anything else is the caller's mistake (InvalidArgumentError naming `what`).
 */
export function encodeU32Payload(what: string, value: number, min: number, max: number): Buffer {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new InvalidArgumentError(`${what} must be an integer in ${min}..${max}, got ${value}`);
  }
  const payload = Buffer.allocUnsafe(U32_PAYLOAD_SIZE);
  writeWord(payload, 0, value);
  return payload;
}

/**
 * The u32 of a `frameName` frame's payload (at any offset of its buffer); a payload of another
 * length is the peer's protocol violation (ProtocolError). What the value means, and which values
 * the receiver accepts, is the caller's to judge.
 */
export function decodeU32Payload(frameName: string, payload: Uint8Array): number {
  if (payload.length !== U32_PAYLOAD_SIZE) throw new ProtocolError(`a ${frameName} payload is ${U32_PAYLOAD_SIZE} bytes, got ${payload.length}`);
  return readWord(payload, 0) >>> 0;
}
