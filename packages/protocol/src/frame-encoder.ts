import { HEADER_SIZE, type FrameType } from "./constants.js";
import { writeFrameHeader } from "./frame-header.js";

/**
 * Payloads up to this many bytes are copied behind the header into one buffer; larger ones are
 * returned as their own element, uncopied, for a gathered write. Measured (apps/bench
 * `protocol/encode`): for 64-byte bodies one allocation is ~2x faster than header + view; the
 * two cost the same near 2 KiB, and past it copying loses.
 */
export const COPY_THRESHOLD = 2048;

/**
 * Encodes one broker frame as the list of buffers to write, in order. The payload may come in
 * parts (e.g. routing header + request head + body); parts are never copied when the frame is
 * larger than COPY_THRESHOLD.
 */
export function encodeFrame(
  type: FrameType,
  flags: number,
  requestId: Uint8Array,
  ...payload: Uint8Array[]
): Buffer[] {
  let length = 0;
  for (const part of payload) length += part.length;
  if (length <= COPY_THRESHOLD) {
    const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
    writeFrameHeader(frame, 0, type, flags, requestId, length);
    let offset = HEADER_SIZE;
    for (const part of payload) {
      frame.set(part, offset);
      offset += part.length;
    }
    return [frame];
  }
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeFrameHeader(header, 0, type, flags, requestId, length);
  const out: Buffer[] = [header];
  for (const part of payload) out.push(Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.length));
  return out;
}
