import { ID_SIZE, InvalidArgumentError, readWord, writeWord } from "@switchyard/protocol";
import type { RequestIndex } from "./request-table.js";
import { SlotTable } from "./slot-table.js";

const TWO_32 = 0x1_0000_0000;
/** Bytes of the fixed prefix. */
const PREFIX_SIZE = 4;

/** What RequestIds issues ids to: the two numbers it assigns. */
export interface Issued {
  /** Index in the issuer's array while held; reused once the request is done. */
  slot: number;
  /** The slot's generation (its use count) when this request took it: never 0, never reused for the slot. */
  generation: number;
}

/**
 * The requests one party (a consumer, the broker) issued ids for, and the ids themselves: the
 * (slot, generation) of a SlotTable written as 16 wire bytes. Making an id costs a counter
 * increment instead of a random UUID, and an answer finds its request with one array read
 * instead of a hash lookup. It is the RequestTable index of the requests we name.
 *
 *   0            4            8                 12                16
 *   +------------+------------+-----------------+-----------------+
 *   | prefix (4) | slot u32   | generation high | generation low  |
 *   +------------+------------+-----------------+-----------------+
 *
 * The prefix tells our ids from others'; the slot indexes the SlotTable of the requests held (a
 * freed slot is reused); the slot's generation makes an id of an earlier occupant miss. The wire
 * allows any 16 bytes as a requestId; ids need only be unique among the requests in flight on a
 * connection, which this guarantees (2⁵³ uses of a slot).
 */
export class RequestIds<T extends Issued> implements RequestIndex<T> {
  readonly #scratch = Buffer.alloc(ID_SIZE);
  readonly #prefix: number;
  readonly #slots = new SlotTable<T>();

  /** `prefix`: at least 4 bytes, the first 4 of which lead every id (e.g. a random UUID's). */
  constructor(prefix: Uint8Array) {
    if (prefix.length < PREFIX_SIZE) throw new InvalidArgumentError(`an id prefix needs ${PREFIX_SIZE} bytes, got ${prefix.length}`);
    this.#prefix = readWord(prefix, 0);
    writeWord(this.#scratch, 0, this.#prefix);
  }

  /** Requests held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Holds `item` in a free slot and writes its slot and generation into it: its id is then `bytes(item)`. Always true. */
  add(item: T): boolean {
    const slot = this.#slots.add(item);
    item.slot = slot;
    item.generation = this.#slots.generation(slot);
    return true;
  }

  /**
   * The 16 wire bytes of `item`'s id, in a buffer the next call reuses: only for a frame encoded
   * at once (ConnectionContext.sendFrame copies the id into the frame header before returning).
   * Still right after the item's slot was freed.
   */
  bytes(item: Issued): Buffer {
    const scratch = this.#scratch;
    writeWord(scratch, 4, item.slot);
    writeWord(scratch, 8, Math.floor(item.generation / TWO_32));
    writeWord(scratch, 12, item.generation);
    return scratch;
  }

  /** The request held under the id `id`, or undefined when it names none (not ours, done, or of a slot's earlier occupant). */
  find(id: Uint8Array): T | undefined {
    if (id.length !== ID_SIZE || readWord(id, 0) !== this.#prefix) return undefined;
    const item = this.#slots.at(readWord(id, 4) >>> 0);
    if (item === undefined) return undefined;
    // The item's own copy of its generation: one read of the object the caller touches next.
    return item.generation === (readWord(id, 8) >>> 0) * TWO_32 + (readWord(id, 12) >>> 0) ? item : undefined;
  }

  /** Lets go of `item` and frees its slot for a later request; false if it was not held. */
  delete(item: T): boolean {
    return this.#slots.delete(item.slot, item) !== undefined;
  }

  values(): T[] {
    return this.#slots.values();
  }
}
