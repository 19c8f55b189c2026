/**
 * The one id allocator Switchyard's request tables share (the consumer's and the broker's
 * RequestIds, anet's TaskTable): values held in the slots of an array, each slot with a
 * generation that counts its uses. An id built from (slot, generation) finds its value with one
 * array read and one comparison (no hashing, no allocation), and an id of a slot's earlier
 * occupant misses because its generation is older. A freed slot is reused first, while it is hot.
 *
 *   values:      [ a,  null, c  ]   free: [1] (a stack)
 *   generations: [ 3,  7,    1  ]   slot 1 was used 7 times; its next occupant gets generation 8
 *
 * How an id encodes (slot, generation) is the user's business: RequestIds writes both into 16
 * wire bytes, anet packs them into a u32 task id.
 */
export class SlotTable<T> {
  readonly #capacity: number;
  readonly #values: Array<T | null> = [];
  /** Uses of each slot so far: the generation of its current (or last) occupant; 0 = never used. */
  readonly #generations: number[] = [];
  readonly #free: number[] = [];
  #size = 0;

  /** `capacity`: most values held at once (default: unbounded); add() beyond it throws a RangeError. */
  constructor(capacity = Number.POSITIVE_INFINITY) {
    this.#capacity = capacity;
  }

  /** Values held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Holds `value` in a free slot (a freed one first), counts one more use of that slot, and
   * returns the slot; `generation(slot)` is then the new use count (≥ 1).
   */
  add(value: T): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#values.length;
      if (slot >= this.#capacity) throw new RangeError(`a slot table sized for ${this.#capacity} values is full`);
      this.#values.push(null);
      this.#generations.push(0);
    }
    this.#generations[slot]!++;
    this.#values[slot] = value;
    this.#size++;
    return slot;
  }

  /** The generation `slot` was last given (still readable once the slot is freed, until it is reused); 0 if never used. */
  generation(slot: number): number {
    return this.#generations[slot] ?? 0;
  }

  /** The value `slot` holds now, whatever its generation, or undefined (free, or no such slot). */
  at(slot: number): T | undefined {
    return this.#values[slot] ?? undefined;
  }

  /** The value `slot` holds if its generation is `generation`, or undefined. */
  get(slot: number, generation: number): T | undefined {
    return this.#generations[slot] === generation ? (this.#values[slot] ?? undefined) : undefined;
  }

  /** Frees `slot` if it holds `value` (any value, when not given), returning what it held; undefined if nothing was freed. */
  delete(slot: number, value?: T): T | undefined {
    const found = this.#values[slot];
    if (found === undefined || found === null || (value !== undefined && found !== value)) return undefined;
    this.#values[slot] = null;
    this.#free.push(slot);
    this.#size--;
    return found;
  }

  /** Every value held, as a snapshot (safe to settle them while iterating). */
  values(): T[] {
    const out: T[] = [];
    for (const value of this.#values) if (value !== null) out.push(value);
    return out;
  }

  /** Frees every slot; generations are kept, so no id given before matches a later occupant. */
  clear(): void {
    this.#values.fill(null);
    this.#free.length = 0;
    for (let slot = this.#values.length - 1; slot >= 0; slot--) this.#free.push(slot);
    this.#size = 0;
  }
}
