import { ID_SIZE, InvalidArgumentError } from "@switchyard/protocol";

const TWO_32 = 0x1_0000_0000;
/** Bytes of the fixed prefix; the sequence number fills the rest of the id. */
const PREFIX_SIZE = 8;

/**
 * Request ids issued by one party (a consumer instance, a broker): a fixed 8-byte prefix, then a
 * sequence number, so making an id costs a counter increment instead of a random UUID, and
 * matching an id back is two integer reads and a Map<number> lookup instead of a string key.
 *
 *   0             8                 12                16
 *   +-------------+-----------------+-----------------+
 *   | prefix (8)  | seq high u32    | seq low u32     |
 *   +-------------+-----------------+-----------------+
 *
 * The wire allows any 16 bytes as a requestId; ids only need to be unique among the requests
 * in flight on a connection, which a counter under one prefix guarantees (2⁵³ ids).
 */
export class RequestIds {
  readonly #scratch = Buffer.alloc(ID_SIZE);
  readonly #prefixHigh: number;
  readonly #prefixLow: number;
  #next = 1;

  /** `prefix`: at least 8 bytes, the first 8 of which lead every id (e.g. a random UUID's). */
  constructor(prefix: Uint8Array) {
    if (prefix.length < PREFIX_SIZE) throw new InvalidArgumentError(`an id prefix needs ${PREFIX_SIZE} bytes, got ${prefix.length}`);
    this.#scratch.set(prefix.subarray(0, PREFIX_SIZE), 0);
    this.#prefixHigh = this.#scratch.readUInt32BE(0);
    this.#prefixLow = this.#scratch.readUInt32BE(4);
  }

  /** A new sequence number: never 0, never reused by this instance. */
  next(): number {
    return this.#next++;
  }

  /**
   * The 16 wire bytes of `seq` in a buffer the next call reuses: only for a frame encoded at once
   * (ConnectionContext.sendFrame copies the id into the frame header before returning).
   */
  bytes(seq: number): Buffer {
    const scratch = this.#scratch;
    scratch.writeUInt32BE(Math.floor(seq / TWO_32), PREFIX_SIZE);
    scratch.writeUInt32BE(seq >>> 0, PREFIX_SIZE + 4);
    return scratch;
  }

  /** The sequence number `id` stands for, or 0 when it is not an id this instance issued. */
  parse(id: Buffer): number {
    if (id.length !== ID_SIZE || id.readUInt32BE(0) !== this.#prefixHigh || id.readUInt32BE(4) !== this.#prefixLow) return 0;
    return id.readUInt32BE(PREFIX_SIZE) * TWO_32 + id.readUInt32BE(PREFIX_SIZE + 4);
  }
}
