import { InvalidMsgLengthError, MaxLenExceededError } from "./anet-errors.js";
import { readWord, writeWord } from "./id-words.js";
import { LengthPrefixedSplitter } from "./length-prefixed-splitter.js";

/** Bytes of the anet task id that follows the length prefix. */
export const TASK_ID_SIZE = 4;

/** Width of the anet length prefix: u16 (the original) or u32. */
export type AnetLengthSize = 2 | 4;

/** Largest body with the 2-byte prefix: 65 535 − 4 task-id bytes. */
export const MAX_ANET_BODY_U16 = 0xffff - TASK_ID_SIZE;

/** Default largest body with the 4-byte prefix (an option): 16 MiB keeps a hostile length bounded. */
export const DEFAULT_MAX_ANET_BODY_U32 = 16 * 1024 * 1024;

/** Options shared by the anet encoder and decoder. */
export interface AnetCodecOptions {
  /** Length prefix width in bytes. Default 2. */
  lengthSize?: AnetLengthSize;
  /** Largest body accepted, in bytes. Default and ceiling 65 531 with lengthSize 2; 16 MiB with 4. */
  maxBodyBytes?: number;
}

/** One anet message: the task id the server echoes, and the body. */
export interface AnetFrame {
  taskId: number;
  body: Buffer;
}

/** The largest body the options allow. */
export function maxAnetBody(options: AnetCodecOptions = {}): number {
  const lengthSize = options.lengthSize ?? 2;
  const ceiling = lengthSize === 2 ? MAX_ANET_BODY_U16 : 0xffff_ffff - TASK_ID_SIZE;
  return Math.min(options.maxBodyBytes ?? (lengthSize === 2 ? MAX_ANET_BODY_U16 : DEFAULT_MAX_ANET_BODY_U32), ceiling);
}

/**
 * Encodes an anet frame as the buffers to write: `length` (2 or 4 bytes, counting task id + body),
 * `taskId u32`, body. The body is not copied. A body over the limit throws MaxLenExceededError
 * before anything is written.
 */
export function encodeAnetFrame(taskId: number, body: Uint8Array, options: AnetCodecOptions = {}): Buffer[] {
  const lengthSize = options.lengthSize ?? 2;
  refuseOversizedAnetBody(body.length, maxAnetBody(options), lengthSize);
  const head = Buffer.allocUnsafe(lengthSize + TASK_ID_SIZE);
  writeAnetHead(head, 0, taskId, body.length, lengthSize);
  return [head, Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length)];
}

/** Throws MaxLenExceededError when a body of `bodyLength` bytes is over `max` (see maxAnetBody). */
export function refuseOversizedAnetBody(bodyLength: number, max: number, lengthSize: AnetLengthSize = 2): void {
  if (bodyLength > max) {
    throw new MaxLenExceededError(`anet body of ${bodyLength} bytes exceeds the maximum of ${max} bytes for a ${lengthSize}-byte length prefix`);
  }
}

/**
 * Writes an anet head — `length` (2 or 4 bytes, counting task id + body) then `taskId u32` — at
 * `offset` of `target`. Byte stores (writeWord), not writeUInt16BE/32BE: their argument checks cost more than
 * a small frame's copy. The caller has checked the body against the limit.
 */
export function writeAnetHead(target: Uint8Array, offset: number, taskId: number, bodyLength: number, lengthSize: AnetLengthSize): void {
  const length = TASK_ID_SIZE + bodyLength;
  if (lengthSize === 4) writeWord(target, offset, length);
  else {
    target[offset] = length >>> 8;
    target[offset + 1] = length;
  }
  writeWord(target, offset + lengthSize, taskId);
}

function readAnetLength16(source: Buffer, offset: number, limit: number): number {
  return checkAnetLength((source[offset]! << 8) | source[offset + 1]!, limit);
}

function readAnetLength32(source: Buffer, offset: number, limit: number): number {
  return checkAnetLength(readWord(source, offset) >>> 0, limit);
}

function checkAnetLength(length: number, limit: number): number {
  if (length < TASK_ID_SIZE) throw new InvalidMsgLengthError(`anet length ${length} is below ${TASK_ID_SIZE}: no room for the task id`);
  if (length > limit) throw new MaxLenExceededError(`anet length ${length} exceeds the maximum of ${limit}`);
  return length;
}

function anetFrameOf(_source: Buffer, _at: number, payload: Buffer): AnetFrame {
  return { taskId: readWord(payload, 0) >>> 0, body: payload.subarray(TASK_ID_SIZE) };
}

/**
 * Streaming anet decoder. A length below 4 throws InvalidMsgLengthError, a length over the
 * maximum throws MaxLenExceededError, both as soon as the prefix is read; the decoder then stays
 * failed. Bodies are zero-copy views where a frame arrived in one piece.
 */
export class AnetDecoder {
  readonly #splitter: LengthPrefixedSplitter<AnetFrame>;

  constructor(options: AnetCodecOptions = {}) {
    const lengthSize = options.lengthSize ?? 2;
    const readLength = lengthSize === 2 ? readAnetLength16 : readAnetLength32;
    this.#splitter = new LengthPrefixedSplitter(lengthSize, maxAnetBody(options) + TASK_ID_SIZE, readLength, anetFrameOf);
  }

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#splitter.bufferedBytes;
  }

  /** Feeds the next piece of the stream; returns the frames it completed, in order. */
  push(chunk: Buffer): AnetFrame[] {
    return this.#splitter.push(chunk);
  }

  /**
   * Where the socket may read the rest of the body being received, when at least `minRemaining`
   * of its bytes are still to come (else null); report what was read there to filled(). See
   * LengthPrefixedSplitter.payloadRoom.
   */
  payloadRoom(minRemaining: number): Buffer | null {
    return this.#splitter.payloadRoom(minRemaining);
  }

  /** `bytes` were read into the last payloadRoom(); returns the frames that completed. */
  filled(bytes: number): AnetFrame[] {
    return this.#splitter.filled(bytes);
  }
}
