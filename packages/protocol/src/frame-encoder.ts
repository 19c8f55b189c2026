import { HEADER_SIZE, type FrameType } from "./constants.js";
import { writeFrameHeader } from "./frame-header.js";

/**
 * Payloads up to this many bytes are copied behind the header into one buffer; larger ones are
 * returned as their own element, uncopied, for a gathered write. Measured with
 * apps/bench/src/micro/protocol-encode.ts (Node 20.20.2, 2 cores, three runs of 7 rounds; frames
 * encoded, then written to a local TCP sink in batches of 64: cork, write each buffer, uncork):
 * one copied buffer costs 0.78–0.84x of header + view per frame at 16–64 B, the two tie at 256 B
 * (0.94–1.01x), and copying costs 1.17–1.22x at 512 B, 1.3–1.8x from 1 KiB to 16 KiB and
 * 1.06–1.51x at 64 KiB.
 * Encoding alone, copying is dearer at every size (1.2x at 16 B, 4.5x at 1 KiB); what it wins is
 * one socket.write() per frame instead of two. Reproduce:
 * `pnpm turbo run build --filter=@switchyard/protocol && cd apps/bench && npx tsx src/micro/protocol-encode.ts`.
 */
export const COPY_THRESHOLD = 256;

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
