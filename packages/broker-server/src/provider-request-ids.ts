import { ID_SIZE } from "@switchyard/protocol";

const TWO_32 = 0x1_0000_0000;

/**
 * The requestIds the broker gives requests on their way to providers. Consumers choose their own
 * ids, so two consumers (one hostile, say) may use the same one; forwarding them unchanged could
 * give a provider two requests with one id. The broker therefore remaps: each dispatched request
 * gets a fresh sequence number, written as
 *
 *   0             8                 12                16
 *   +-------------+-----------------+-----------------+
 *   | prefix (8)  | seq high u32    | seq low u32     |
 *   +-------------+-----------------+-----------------+
 *
 * where the prefix is the first 8 bytes of the server id. Responses are matched back by that
 * number (a cheap Map<number> key) and the consumer's own id is put back on the way out.
 */
export class ProviderRequestIds {
  readonly #scratch = Buffer.alloc(ID_SIZE);
  readonly #prefixHigh: number;
  readonly #prefixLow: number;
  #next = 1;

  constructor(serverId: Uint8Array) {
    this.#scratch.set(serverId.subarray(0, 8), 0);
    this.#prefixHigh = this.#scratch.readUInt32BE(0);
    this.#prefixLow = this.#scratch.readUInt32BE(4);
  }

  /** A new sequence number, never 0 and never reused by this broker. */
  next(): number {
    return this.#next++;
  }

  /**
   * The 16 wire bytes of `seq`, in a buffer reused by the next call: only for encodeFrame, which
   * copies the requestId into the frame header at once.
   */
  bytes(seq: number): Buffer {
    const scratch = this.#scratch;
    scratch.writeUInt32BE(Math.floor(seq / TWO_32), 8);
    scratch.writeUInt32BE(seq >>> 0, 12);
    return scratch;
  }

  /** The sequence number an id a provider sent stands for, or 0 when the broker never issued it. */
  parse(id: Buffer): number {
    if (id.readUInt32BE(0) !== this.#prefixHigh || id.readUInt32BE(4) !== this.#prefixLow) return 0;
    return id.readUInt32BE(8) * TWO_32 + id.readUInt32BE(12);
  }
}
