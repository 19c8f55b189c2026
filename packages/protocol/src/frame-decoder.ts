import { FrameType, HEADER_SIZE, MAX_PAYLOAD } from "./constants.js";
import { type Frame, readFrameLength } from "./frame-header.js";
import { LengthPrefixedSplitter, type PartsPolicy } from "./length-prefixed-splitter.js";

/** Options of a FrameDecoder. */
export interface FrameDecoderOptions {
  /** Largest payload accepted in one frame, in bytes. Default MAX_PAYLOAD (1 MiB). */
  maxPayload?: number;
  /**
   * Hand out a CHUNK or RESPONSE_CHUNK whose payload arrived over several reads with `parts` (the
   * pieces as they came, uncopied) instead of joining them into one buffer first: a relay forwards
   * the parts as they are. `payload` still works, joining them on first use. Default false.
   */
  keepChunkParts?: boolean;
}

/** A frame whose payload is kept in parts; `payload` joins them once, when first asked for. */
class PartedFrame implements Frame {
  readonly type: FrameType;
  readonly flags: number;
  readonly requestId: Buffer;
  readonly parts: readonly Buffer[];
  readonly #length: number;
  #joined: Buffer | null = null;

  /** `head`: the frame's header fields (frameAt's, its payload unused). */
  constructor(head: Frame, parts: readonly Buffer[], length: number) {
    this.type = head.type;
    this.flags = head.flags;
    this.requestId = head.requestId;
    this.parts = parts;
    this.#length = length;
  }

  get payload(): Buffer {
    this.#joined ??= Buffer.concat(this.parts, this.#length);
    return this.#joined;
  }
}

const EMPTY = Buffer.alloc(0);

/** What `keepChunkParts` keeps in parts: CHUNK and RESPONSE_CHUNK payloads, whose bytes a broker forwards as they are. */
const CHUNK_PARTS: PartsPolicy<Frame> = {
  keeps: (source, at) => source[at + 1] === FrameType.CHUNK || source[at + 1] === FrameType.RESPONSE_CHUNK,
  build: (header, parts, length) => new PartedFrame(frameAt(header, 0, EMPTY), parts, length),
};

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
    const parts = options.keepChunkParts === true ? CHUNK_PARTS : null;
    this.#splitter = new LengthPrefixedSplitter(HEADER_SIZE, options.maxPayload ?? MAX_PAYLOAD, readFrameLength, frameAt, parts);
  }

  /** Bytes held back waiting for the rest of a frame: at most one header plus one max payload. */
  get bufferedBytes(): number {
    return this.#splitter.bufferedBytes;
  }

  /** Feeds the next piece of the stream; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    return this.#splitter.push(chunk);
  }

  /**
   * Where to read the rest of a payload in progress straight into, once at least `minRemaining`
   * of its bytes are still to come (else null); report what was read there to filled(). The
   * payload then takes a buffer of its declared length at once: for clients reading through
   * Node's `onread`, not for a server. See LengthPrefixedSplitter.
   */
  payloadRoom(minRemaining: number): Buffer | null {
    return this.#splitter.payloadRoom(minRemaining);
  }

  /** `bytes` were read into the last payloadRoom(); returns the frames that completed. */
  filled(bytes: number): Frame[] {
    return this.#splitter.filled(bytes);
  }
}
