import { FrameType, HEADER_SIZE, MAX_PAYLOAD } from "./constants.js";
import { type Frame, readFrameLength } from "./frame-header.js";
import { LengthPrefixedSplitter } from "./length-prefixed-splitter.js";

/** Options of a FrameDecoder. */
export interface FrameDecoderOptions {
  /** Largest payload accepted in one frame, in bytes. Default MAX_PAYLOAD (1 MiB). */
  maxPayload?: number;
  /**
   * Hand out a CHUNK or RESPONSE_CHUNK whose payload spans socket reads as the pieces it was read
   * in — each a frame of its own, with the same type and requestId — instead of copying them into
   * one buffer. These frames only carry body bytes in order, so their boundaries mean nothing: a
   * relay forwards the pieces without a copy, and a receiver assembles the body once. Pieces come
   * when the frame's last byte has arrived; they are at least MIN_PIECE bytes, but the last.
   * Default false.
   */
  splitChunks?: boolean;
}

/** The SplitPolicy of `splitChunks`: the header at `at` is a CHUNK's or a RESPONSE_CHUNK's. */
function isChunkHeader(source: Buffer, at: number): boolean {
  const type = source[at + 1];
  return type === FrameType.CHUNK || type === FrameType.RESPONSE_CHUNK;
}

/** The Frame whose header is at `at` of `source`; requestId and payload are views. */
function frameAt(source: Buffer, at: number, payload: Buffer): Frame {
  return {
    type: source[at + 1] as FrameType,
    flags: (source[at + 2]! << 8) | source[at + 3]!,
    requestId: source.subarray(at + 4, at + 20),
    payload,
  };
}

/**
 * Streaming decoder of broker frames: feed it whatever the socket gives, get whole frames back.
 * Payloads are zero-copy views where a frame arrived in one piece. A bad version, unknown type or
 * oversized length throws ProtocolError as soon as the 24-byte header is read, before the payload
 * is buffered; the decoder then stays failed (the connection must be closed).
 */
export class FrameDecoder {
  readonly #splitter: LengthPrefixedSplitter<Frame>;

  constructor(options: FrameDecoderOptions = {}) {
    const split = options.splitChunks === true ? isChunkHeader : null;
    this.#splitter = new LengthPrefixedSplitter(HEADER_SIZE, options.maxPayload ?? MAX_PAYLOAD, readFrameLength, frameAt, split);
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
