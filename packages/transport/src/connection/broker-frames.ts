import { CREDIT_SIZE, type Frame, FrameDecoder, FrameType, HEADER_SIZE, writeFrameHeader } from "@switchyard/protocol";
import type { SocketWriter } from "./socket-writer.js";
import type { WireFormat } from "./wire-format.js";

/** How a connection decodes broker frames. */
export interface BrokerFramesOptions {
  /** Largest frame payload accepted, in bytes. Default MAX_PAYLOAD. */
  maxPayload?: number;
  /** Frames keep a CHUNK or RESPONSE_CHUNK read in pieces as `parts` (FrameDecoder's keepChunkParts): for relays. */
  keepChunkParts?: boolean;
}

/**
 * The broker's wire format (docs/protocol.md §1): a 24-byte header — type, flags, requestId,
 * payload length — then the payload. Spoken by the broker and both clients, through
 * ConnectionContext.
 */
export class BrokerFrames implements WireFormat<Frame> {
  readonly #options: BrokerFramesOptions;

  constructor(options: BrokerFramesOptions = {}) {
    this.#options = { maxPayload: options.maxPayload, keepChunkParts: options.keepChunkParts };
  }

  decoder(): FrameDecoder {
    return new FrameDecoder(this.#options);
  }

  /**
   * Queues a frame in `writer`, its header encoded straight into the batch. False when refused
   * (the writer's limits, or closed). Throws InvalidArgumentError for a requestId that is not 16
   * bytes or a payload over MAX_PAYLOAD (a caller's bug, not the peer's); the batch is left intact.
   */
  write(writer: SocketWriter, type: FrameType, flags: number, requestId: Uint8Array, payload: readonly Uint8Array[]): boolean {
    let length = 0;
    for (const part of payload) length += part.length;
    const at = writer.beginFrame(HEADER_SIZE, length);
    if (at < 0) return false;
    writeFrameHeader(writer.slab, at, type, flags, requestId, length);
    writer.endFrame(HEADER_SIZE, length, payload);
    return true;
  }

  /**
   * Queues a frame of header only that the caller bounds itself (a CANCEL, a probe's PING): refused
   * only once the writer is closed (SocketWriter.beginControlFrame).
   */
  writeControl(writer: SocketWriter, type: FrameType, requestId: Uint8Array): boolean {
    const at = writer.beginControlFrame(HEADER_SIZE);
    if (at < 0) return false;
    writeFrameHeader(writer.slab, at, type, 0, requestId, 0);
    writer.endFrame(HEADER_SIZE, 0, EMPTY_PAYLOAD);
    return true;
  }
}

/**
 * Queues a CREDIT granting `increment` bytes of `requestId`'s body (docs/protocol.md §1.20), header
 * and payload encoded straight into the batch. Bounded by its caller like a control frame (one per
 * half window a stream consumes), and refused only once the writer is closed: a CREDIT lost to a
 * full queue would stall its stream for good.
 */
export function writeCredit(writer: SocketWriter, requestId: Uint8Array, increment: number): boolean {
  const at = writer.beginControlFrame(HEADER_SIZE + CREDIT_SIZE);
  if (at < 0) return false;
  writeFrameHeader(writer.slab, at, FrameType.CREDIT, 0, requestId, CREDIT_SIZE);
  writer.slab.writeUInt32BE(increment, at + HEADER_SIZE);
  writer.endFrame(HEADER_SIZE + CREDIT_SIZE, 0, EMPTY_PAYLOAD);
  return true;
}

const EMPTY_PAYLOAD: readonly Uint8Array[] = [];
