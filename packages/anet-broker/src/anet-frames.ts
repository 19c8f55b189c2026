import { type AnetCodecOptions, AnetDecoder, type AnetFrame, type AnetLengthSize, TASK_ID_SIZE, writeAnetHead } from "@switchyard/protocol";
import type { SocketWriter, WireFormat } from "@switchyard/transport/internal";

/**
 * The anet wire format (docs/protocol.md §2) as a FramedConnection strategy: a 2- or 4-byte
 * big-endian length, a 4-byte task id, then the body. Spoken by the anet Broker's connections and
 * by createAnetServer's.
 */
export class AnetFrames implements WireFormat<AnetFrame> {
  readonly #codec: AnetCodecOptions;
  readonly #lengthSize: AnetLengthSize;
  readonly #headSize: number;

  constructor(codec: { lengthSize: AnetLengthSize; maxBodyBytes: number | undefined }) {
    this.#codec = { lengthSize: codec.lengthSize, maxBodyBytes: codec.maxBodyBytes };
    this.#lengthSize = codec.lengthSize;
    this.#headSize = codec.lengthSize + TASK_ID_SIZE;
  }

  decoder(): AnetDecoder {
    return new AnetDecoder(this.#codec);
  }

  /**
   * Queues the frame `taskId, body` in `writer`, its head encoded straight into the batch; false
   * when refused (the writer's limits, or closed). The caller has checked the body against its
   * limit (refuseOversizedAnetBody).
   */
  write(writer: SocketWriter, taskId: number, body: Uint8Array): boolean {
    const at = writer.beginFrame(this.#headSize, body.length);
    if (at < 0) return false;
    writeAnetHead(writer.slab, at, taskId, body.length, this.#lengthSize);
    writer.endFrameWith(this.#headSize, body);
    return true;
  }
}
