import { ID_SIZE } from "@switchyard/protocol";
import { readWord, writeWord } from "@switchyard/transport";

const TWO_32 = 0x1_0000_0000;

/** What ProviderRequestIds files: a request, with the two fields it assigns. */
export interface ProviderRouted {
  /** Index in the table while dispatched; -1 when not. */
  slot: number;
  /** Sequence number of this dispatch (never 0, never reused); 0 when not dispatched. */
  seq: number;
}

/**
 * The requestIds the broker gives requests on their way to providers, and the table that maps
 * them back. Consumers choose their own ids, so two consumers (one hostile, say) may use the same
 * one; forwarding them unchanged could give a provider two requests with one id. The broker
 * therefore issues its own:
 *
 *   0            4            8                 12                16
 *   +------------+------------+-----------------+-----------------+
 *   | prefix (4) | slot u32   | seq high u32    | seq low u32     |
 *   +------------+------------+-----------------+-----------------+
 *
 * The prefix is the first 4 bytes of the server id; the slot indexes an array of the requests
 * in flight (freed slots are reused), so a response finds its request with one array read; and
 * the sequence number, never reused, makes an id issued for an earlier occupant of the slot miss.
 */
export class ProviderRequestIds<T extends ProviderRouted> {
  readonly #scratch = Buffer.alloc(ID_SIZE);
  readonly #prefix: number;
  /** Grows to the most requests ever in flight at once (bounded by the providers' capacities). */
  readonly #slots: Array<T | null> = [];
  readonly #free: number[] = [];
  #next = 1;

  constructor(serverId: Uint8Array) {
    this.#prefix = readWord(serverId, 0);
    writeWord(this.#scratch, 0, this.#prefix);
  }

  /** Requests filed now. */
  get size(): number {
    return this.#slots.length - this.#free.length;
  }

  /** Gives `item` a slot and a fresh sequence number, until `release`. */
  issue(item: T): void {
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    this.#slots[slot] = item;
    item.slot = slot;
    item.seq = this.#next++;
  }

  /** Frees `item`'s slot: its id no longer finds it. Harmless if it holds none. */
  release(item: T): void {
    const slot = item.slot;
    if (slot < 0 || this.#slots[slot] !== item) return;
    this.#slots[slot] = null;
    this.#free.push(slot);
    item.slot = -1;
  }

  /**
   * The 16 wire bytes of `item`'s id, in a buffer reused by the next call: only for a frame
   * encoder, which copies the requestId into the frame header at once.
   */
  bytes(item: T): Buffer {
    const scratch = this.#scratch;
    writeWord(scratch, 4, item.slot);
    writeWord(scratch, 8, Math.floor(item.seq / TWO_32));
    writeWord(scratch, 12, item.seq);
    return scratch;
  }

  /** The item an id a provider sent stands for, or undefined when it names none filed now. */
  find(id: Uint8Array): T | undefined {
    if (readWord(id, 0) !== this.#prefix) return undefined;
    const item = this.#slots[readWord(id, 4) >>> 0];
    if (item === undefined || item === null) return undefined;
    const seq = (readWord(id, 8) >>> 0) * TWO_32 + (readWord(id, 12) >>> 0);
    return item.seq === seq ? item : undefined;
  }
}
