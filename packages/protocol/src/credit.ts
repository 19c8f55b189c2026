import { MAX_PAYLOAD } from "./constants.js";
import { decodeU32Payload, encodeU32Payload, U32_PAYLOAD_SIZE } from "./u32-payload.js";

/** Bytes of a CREDIT frame's payload: the increment, u32. */
export const CREDIT_SIZE = U32_PAYLOAD_SIZE;

/**
 * Most credit a stream's sender may hold at once, bytes: 2^31 − 1, as HTTP/2 bounds a window. A
 * CREDIT that would take a stream past it is a FLOW_CONTROL_ERROR of that stream (§1.20).
 */
export const MAX_WINDOW = 0x7fff_ffff;

/**
 * Smallest initial stream window a peer may announce, bytes: MAX_PAYLOAD (1 MiB). The first frame
 * of a body (START, RESPONSE_START, RESPONSE) then always fits a stream's initial credit, so a
 * first frame never waits for credit and a forwarder never has to split one for it.
 */
export const MIN_STREAM_WINDOW = MAX_PAYLOAD;

/**
 * Initial stream window of a peer that announces none on a 1.1 connection, and the window the
 * Switchyard clients and broker announce by default: 4 MiB — a small, fixed memory bound per
 * stream at each hop, one CREDIT per 2 MiB. In the stream1GiB benchmark (README, Benchmarks) it
 * was as fast as 16 MiB windows, relative to the raw relay, and 1 MiB windows clearly slower.
 */
export const DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024;

/** The payload of a CREDIT frame granting `increment` bytes (1 ..= MAX_WINDOW); anything else is the caller's mistake. */
export function encodeCredit(increment: number): Buffer {
  return encodeU32Payload("a credit increment", increment, 1, MAX_WINDOW);
}

/**
 * The increment a CREDIT payload grants, 0 ..= 2^32 − 1 (the receiver decides what 0 and values
 * past MAX_WINDOW mean: §1.20). A payload that is not exactly 4 bytes throws ProtocolError.
 */
export function decodeCredit(payload: Uint8Array): number {
  return decodeU32Payload("CREDIT", payload);
}
