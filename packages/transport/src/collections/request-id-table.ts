import { randomBytes } from "node:crypto";
import { readWord } from "@switchyard/protocol";
import type { RequestIndex } from "./request-table.js";

/** What a RequestIdTable holds: items keyed by a 16-byte id, kept as four words, and its hash. */
export interface IdKeyed {
  readonly id0: number;
  readonly id1: number;
  readonly id2: number;
  readonly id3: number;
  /** `hashRequestId` of the id. */
  readonly idHash: number;
}

/** Random odd multipliers, one per word, chosen per process (see hashRequestId). */
const MULTIPLIERS = new Int32Array(randomBytes(16).buffer).map((m) => m | 1);
const MIN_BITS = 4;

/**
 * The hash a RequestIdTable files a 16-byte id under: vector multiply-shift with secret random
 * multipliers (Σ aᵢ·wordᵢ mod 2³², indexed by its top bits). Two different ids share a slot's
 * hash with probability at most 2/slots whatever ids a client chooses, so a hostile consumer
 * cannot pile its ids into one probe run without knowing the multipliers; and it costs four
 * multiplies where building a string key for a Map allocates and crosses into C++.
 */
export function hashRequestId(id: Uint8Array): number {
  return (
    (Math.imul(readWord(id, 0), MULTIPLIERS[0]!) +
      Math.imul(readWord(id, 4), MULTIPLIERS[1]!) +
      Math.imul(readWord(id, 8), MULTIPLIERS[2]!) +
      Math.imul(readWord(id, 12), MULTIPLIERS[3]!)) |
    0
  );
}

/**
 * Requests by a 16-byte id someone else chose (the broker's by each consumer's requestId, a
 * provider's by the broker's), as a RequestTable index: an open-addressing table with linear
 * probing, O(1) and allocation-free per request (the items carry their own key). Deleting shifts
 * the rest of the probe run back instead of leaving tombstones, so lookups stay short however many
 * requests come and go. The slot array is allocated with the first item and grows at half full.
 * It shrinks to fit once it has stayed under an eighth full for as many deletes as it has slots:
 * a burst is given back, but a pipelining consumer whose count swings between 0 and 256 every
 * few reads does not shrink and regrow its table each time (that cost 1 % of the broker's time).
 *
 *   slots: [ · a b · · c d e · ]   a, b share a probe run; an item sits at or after its home
 *             home(x) = hash >>> (32 − log2(slots))
 */
export class RequestIdTable<T extends IdKeyed> implements RequestIndex<T> {
  readonly #hash: (id: Uint8Array) => number;
  #slots: Array<T | null> = [];
  #shift = 32;
  #size = 0;
  /** Deletes in a row that left the table under an eighth full. */
  #sparseDeletes = 0;

  /** `hash` is for tests, which need collisions on demand; items' `idHash` must be made with it. */
  constructor(hash: (id: Uint8Array) => number = hashRequestId) {
    this.#hash = hash;
  }

  /** Items held. */
  get size(): number {
    return this.#size;
  }

  /** Slots allocated (a pointer each): at least twice `size`, at most 8 times after a long quiet spell. */
  get capacity(): number {
    return this.#slots.length;
  }

  /** The item whose id is the 16 bytes of `id` (any view of them), or undefined; pass `hash` when the caller already has it. */
  find(id: Uint8Array, hash: number = this.#hash(id)): T | undefined {
    if (this.#size === 0) return undefined;
    const slots = this.#slots;
    const mask = slots.length - 1;
    const w0 = readWord(id, 0);
    for (let i = hash >>> this.#shift; ; i = (i + 1) & mask) {
      const item = slots[i]!;
      if (item === null) return undefined;
      if (item.idHash === hash && item.id0 === w0 && item.id1 === readWord(id, 4) && item.id2 === readWord(id, 8) && item.id3 === readWord(id, 12)) {
        return item;
      }
    }
  }

  /**
   * Adds `item`; false, and nothing added, when an item with its id is held. The duplicate check
   * rides on the walk to a free slot that adding makes anyway: no second probe.
   */
  add(item: T): boolean {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#resize(Math.max(MIN_BITS, 33 - this.#shift));
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = item.idHash >>> this.#shift;
    for (let held = slots[i]!; held !== null; held = slots[i]!) {
      if (held.idHash === item.idHash && held.id0 === item.id0 && held.id1 === item.id1 && held.id2 === item.id2 && held.id3 === item.id3) return false;
      i = (i + 1) & mask;
    }
    slots[i] = item;
    this.#size++;
    if (this.#size * 8 >= this.#slots.length) this.#sparseDeletes = 0; // "in a row" ends when it fills up
    return true;
  }

  /** Removes `item`; false (and harmless) if it is not held. */
  delete(item: T): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    if (mask < 0) return false;
    let hole = item.idHash >>> this.#shift;
    while (slots[hole] !== item) {
      if (slots[hole] === null) return false;
      hole = (hole + 1) & mask;
    }
    // Move later members of the run back into the hole when their home is not between the hole
    // and where they sit: linear probing must find every item without crossing an empty slot.
    for (let next = (hole + 1) & mask; slots[next] !== null; next = (next + 1) & mask) {
      const home = slots[next]!.idHash >>> this.#shift;
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      slots[hole] = slots[next]!;
      hole = next;
    }
    slots[hole] = null;
    this.#size--;
    this.#maybeShrink();
    return true;
  }

  /** Every item, in no particular order: a snapshot, safe to delete items while walking it. */
  values(): T[] {
    const out: T[] = [];
    for (const item of this.#slots) if (item !== null) out.push(item);
    return out;
  }

  #maybeShrink(): void {
    const length = this.#slots.length;
    if (length === 1 << MIN_BITS || this.#size * 8 >= length) {
      this.#sparseDeletes = 0;
      return;
    }
    if (++this.#sparseDeletes < length) return;
    this.#sparseDeletes = 0;
    // The smallest table at most a quarter full: 2^bits ≥ 4 × size.
    this.#resize(this.#size === 0 ? MIN_BITS : Math.max(MIN_BITS, 32 - Math.clz32(this.#size * 4 - 1)));
  }

  /** Re-files every item in a table of 2^bits slots. */
  #resize(bits: number): void {
    const old = this.#slots;
    this.#slots = new Array<T | null>(1 << bits).fill(null);
    this.#shift = 32 - bits;
    for (const item of old) if (item !== null) this.#place(item);
  }

  #place(item: T): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = item.idHash >>> this.#shift;
    while (slots[i] !== null) i = (i + 1) & mask;
    slots[i] = item;
  }
}
