import { ID_SIZE, MAX_FRAME_TYPE, MAX_PAYLOAD, PROTOCOL_VERSION, type FrameType } from "./constants.js";
import { InvalidArgumentError, ProtocolError } from "./errors.js";
import { readWord, writeWord } from "./id-words.js";

/** A decoded broker frame. `requestId` and `payload` may be views into the bytes received. */
export interface Frame {
  type: FrameType;
  flags: number;
  /** 16 bytes; all zeros for frames about the connection itself. */
  requestId: Buffer;
  payload: Buffer;
  /**
   * Set only by a FrameDecoder with `keepChunkParts`, on a CHUNK or RESPONSE_CHUNK whose payload
   * arrived over several reads: the payload's bytes as they came, in order, uncopied. `payload`
   * then joins them, once, on first use; a relay forwards the parts instead.
   */
  readonly parts?: readonly Buffer[];
}

/** A frame's payload as parts: its `parts`, or its payload alone. */
export function payloadParts(frame: Frame): readonly Buffer[] {
  return frame.parts ?? [frame.payload];
}

/** A frame's payload length, without joining its parts. */
export function payloadLength(frame: Frame): number {
  if (frame.parts === undefined) return frame.payload.length;
  let length = 0;
  for (const part of frame.parts) length += part.length;
  return length;
}

/**
 * Writes a 24-byte header at `offset` of `target`.
 *
 *   0        1      2        4                  20        24
 *   +--------+------+--------+------------------+---------+
 *   | ver u8 | type | flags  | requestId (16)   | len u32 |
 *   +--------+------+--------+------------------+---------+
 *
 * A requestId that is not 16 bytes, or a length outside 0 ..= MAX_PAYLOAD, is the caller's mistake:
 * InvalidArgumentError, and nothing is written.
 */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  type: FrameType,
  flags: number,
  requestId: Uint8Array,
  length: number,
): void {
  if (requestId.length !== ID_SIZE) throw new InvalidArgumentError(`requestId must be ${ID_SIZE} bytes, got ${requestId.length}`);
  if (!(length >= 0 && length <= MAX_PAYLOAD)) {
    throw new InvalidArgumentError(`frame payload of ${length} bytes exceeds MAX_PAYLOAD (${MAX_PAYLOAD}): split it into CHUNK frames`);
  }
  target[offset] = PROTOCOL_VERSION;
  target[offset + 1] = type;
  target[offset + 2] = flags >>> 8;
  target[offset + 3] = flags;
  target.set(requestId, offset + 4);
  writeWord(target, offset + 20, length);
}

/**
 * Validates the header at `offset` (the caller guarantees 24 bytes are there) and returns its
 * payload length. A bad version, an unknown type or a length over `maxPayload` throws
 * ProtocolError, so a decoder refuses the frame before buffering any of its payload.
 */
export function readFrameLength(source: Buffer, offset: number, maxPayload: number = MAX_PAYLOAD): number {
  const version = source[offset]!;
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(`unsupported protocol version ${version} (this peer speaks ${PROTOCOL_VERSION})`);
  }
  const type = source[offset + 1]!;
  if (type < 1 || type > MAX_FRAME_TYPE) throw new ProtocolError(`unknown frame type ${type}`);
  const length = readWord(source, offset + 20) >>> 0;
  if (length > maxPayload) {
    throw new ProtocolError(`frame length ${length} exceeds the maximum payload of ${maxPayload} bytes`);
  }
  return length;
}
