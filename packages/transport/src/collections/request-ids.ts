import { ID_SIZE, InvalidArgumentError, readWord, writeWord } from "@switchyard/protocol";
import type { KeyIndex } from "./key-index.js";

const TWO_32 = 0x1_0000_0000;
/** Bytes of the fixed prefix. */
const PREFIX_SIZE = 4;

/** What RequestIds issues ids to: the two numbers it assigns. */
export interface Issued {
  /** Index in the issuer's array while held; reused once the request is done. */
  slot: number;
  /** Sequence number of this request: never 0, never reused. */
  seq: number;
}

/**
 * The requests one party (a consumer) issued ids for, and the ids themselves: making an id costs
 * a counter increment instead of a random UUID, and an answer finds its request with one array
 * read instead of a hash lookup. As a RequestTable index it is keyed by slot.
 *
 *   0            4            8                 12                16
 *   +------------+------------+-----------------+-----------------+
 *   | prefix (4) | slot u32   | seq high u32    | seq low u32     |
 *   +------------+------------+-----------------+-----------------+
 *
 * The prefix tells our ids from others'; the slot indexes an array of the requests held (a freed
 * slot is reused); the sequence number, never reused, makes an id of an earlier occupant of the
 * slot miss. The wire allows any 16 bytes as a requestId; ids need only be unique among the
 * requests in flight on a connection, which this guarantees (2⁵³ sequence numbers).
 */
export class RequestIds<T extends Issued> implements KeyIndex<number, T> {
  readonly #scratch = Buffer.alloc(ID_SIZE);
  readonly #prefix: number;
  /** Grows to the most requests ever held at once; null marks a slot issued or freed but not held. */
  readonly #slots: Array<T | null> = [];
  readonly #free: number[] = [];
  #size = 0;
  #next = 1;

  /** `prefix`: at least 4 bytes, the first 4 of which lead every id (e.g. a random UUID's). */
  constructor(prefix: Uint8Array) {
    if (prefix.length < PREFIX_SIZE) throw new InvalidArgumentError(`an id prefix needs ${PREFIX_SIZE} bytes, got ${prefix.length}`);
    this.#prefix = readWord(prefix, 0);
    writeWord(this.#scratch, 0, this.#prefix);
  }

  /** Requests held. */
  get size(): number {
    return this.#size;
  }

  /** Gives `item` a free slot and a new sequence number; `add(item.slot, item)` then holds it. */
  issue(item: T): void {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#slots.length;
      this.#slots.push(null);
    }
    item.slot = slot;
    item.seq = this.#next++;
  }

  /**
   * The 16 wire bytes of `item`'s id, in a buffer the next call reuses: only for a frame encoded
   * at once (ConnectionContext.sendFrame copies the id into the frame header before returning).
   * Still right after the item's slot was freed.
   */
  bytes(item: Issued): Buffer {
    const scratch = this.#scratch;
    writeWord(scratch, 4, item.slot);
    writeWord(scratch, 8, Math.floor(item.seq / TWO_32));
    writeWord(scratch, 12, item.seq);
    return scratch;
  }

  /** The request held under the id `id`, or undefined when it names none (not ours, done, or of a slot's earlier occupant). */
  find(id: Uint8Array): T | undefined {
    if (id.length !== ID_SIZE || readWord(id, 0) !== this.#prefix) return undefined;
    const item = this.#slots[readWord(id, 4) >>> 0];
    if (item === undefined || item === null) return undefined;
    return item.seq === (readWord(id, 8) >>> 0) * TWO_32 + (readWord(id, 12) >>> 0) ? item : undefined;
  }

  get(slot: number): T | undefined {
    return this.#slots[slot] ?? undefined;
  }

  /** Holds `item` in `slot`, which issue() gave it; false if the slot is not one issued and free. */
  add(slot: number, item: T): boolean {
    if (this.#slots[slot] !== null) return false;
    this.#slots[slot] = item;
    this.#size++;
    return true;
  }

  /** Lets go of what `slot` holds (only if it is `item`, when given) and frees the slot for a later request. */
  remove(slot: number, item?: T): T | undefined {
    const found = this.#slots[slot];
    if (found === undefined || found === null || (item !== undefined && found !== item)) return undefined;
    this.#slots[slot] = null;
    this.#free.push(slot);
    this.#size--;
    return found;
  }

  *values(): IterableIterator<T> {
    for (const item of this.#slots) if (item !== null) yield item;
  }
}
