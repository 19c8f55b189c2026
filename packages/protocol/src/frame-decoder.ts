import { HEADER_SIZE, MAX_PAYLOAD, type FrameType } from "./constants.js";
import { type Frame, readFrameLength } from "./frame-header.js";
import { LengthPrefixedSplitter } from "./length-prefixed-splitter.js";

/** Options of a FrameDecoder. */
export interface FrameDecoderOptions {
  /** Largest payload accepted in one frame, in bytes. Default MAX_PAYLOAD (1 MiB). */
  maxPayload?: number;
}

/**
 * Streaming decoder of broker frames: feed it whatever the socket gives, get whole frames back.
 * Payloads are zero-copy views where a frame arrived in one piece. A bad version, unknown type or
 * oversized length throws ProtocolError as soon as the 24-byte header is read, before the payload
 * is buffered; the decoder then stays failed (the connection must be closed).
 */
/** The Frame whose header is at `at` of `source`; requestId and payload are views. */
function frameAt(source: Buffer, at: number, payload: Buffer): Frame {
  return {
    type: source[at + 1] as FrameType,
    flags: (source[at + 2]! << 8) | source[at + 3]!,
    requestId: source.subarray(at + 4, at + 20),
    payload,
  };
}

export class FrameDecoder {
  readonly #splitter: LengthPrefixedSplitter<Frame>;

  constructor(options: FrameDecoderOptions = {}) {
    this.#splitter = new LengthPrefixedSplitter(HEADER_SIZE, options.maxPayload ?? MAX_PAYLOAD, readFrameLength, frameAt);
  }

  /** Bytes held back waiting for the rest of a frame: at most one header plus one max payload. */
  get bufferedBytes(): number {
    return this.#splitter.bufferedBytes;
  }

  /** Feeds the next piece of the stream; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    return this.#splitter.push(chunk);
  }
}
