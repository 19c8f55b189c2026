import { REQUEST_HEAD_SIZE } from "./constants.js";
import { ProtocolError } from "./errors.js";

/** Largest value of a u32 field: the most milliseconds a timeout can say. */
export const MAX_TIMEOUT_MS = 0xffff_ffff;

/** Encodes a request head: `timeoutMs u32` (0 = the connection's default). Body bytes follow it. */
export function encodeRequestHead(timeoutMs: number): Buffer {
  const out = Buffer.allocUnsafe(REQUEST_HEAD_SIZE);
  out.writeUInt32BE(clampTimeout(timeoutMs), 0);
  return out;
}

/** Reads a request head at the front of a START payload; `body` is a view of what follows. */
export function decodeRequestHead(payload: Buffer): { timeoutMs: number; body: Buffer } {
  if (payload.length < REQUEST_HEAD_SIZE) {
    throw new ProtocolError(`request START payload of ${payload.length} bytes is shorter than its ${REQUEST_HEAD_SIZE}-byte head`);
  }
  return { timeoutMs: payload.readUInt32BE(0), body: payload.subarray(REQUEST_HEAD_SIZE) };
}

/** A timeout as the u32 the wire carries: whole milliseconds, 0 ..= MAX_TIMEOUT_MS. */
export function clampTimeout(timeoutMs: number): number {
  if (!(timeoutMs > 0)) return 0;
  return Math.min(Math.ceil(timeoutMs), MAX_TIMEOUT_MS);
}
