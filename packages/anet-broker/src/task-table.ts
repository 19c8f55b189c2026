/** Most entries a TaskTable holds: 2²⁴, so at least 8 bits of every task id count a slot's uses. */
export const MAX_TASK_TABLE_CAPACITY = 2 ** 24;

/**
 * The requests in flight on one connection, by the task id each was given. A task id is a slot
 * number in its low bits and that slot's use count in its high bits, so finding the request of a
 * response is an array read and one comparison (no hashing), and ids are unique among the entries
 * held at once because each slot holds one. A freed slot is reused first, while it is hot.
 *
 *   taskId = uses << slotBits | slot        values: [req, null, req, …]   free: [1, …] (a stack)
 *
 * An id whose slot is free or holds another use (a response to nothing asked) is not found.
 */
export class TaskTable<T> {
  readonly #slotBits: number;
  readonly #slotMask: number;
  readonly #values: Array<T | null> = [];
  /** The task id each slot was last given. */
  readonly #ids: number[] = [];
  readonly #free: number[] = [];
  #size = 0;

  /** `capacity`: most entries at once (1 ..= MAX_TASK_TABLE_CAPACITY); it sizes the slot bits of the ids. */
  constructor(capacity: number) {
    this.#slotBits = Math.max(1, Math.ceil(Math.log2(Math.min(capacity, MAX_TASK_TABLE_CAPACITY))));
    this.#slotMask = 2 ** this.#slotBits - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Holds `value` under a task id no entry held now has, and returns that id (a u32). */
  add(value: T): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#values.length;
      if (slot > this.#slotMask) throw new RangeError(`a task table sized for ${this.#slotMask + 1} entries is full`);
      this.#values.push(null);
      this.#ids.push(slot);
    }
    // The next use of this slot: same low bits, use count + 1 (wrapping within 32 bits).
    const id = (this.#ids[slot]! + this.#slotMask + 1) >>> 0;
    this.#ids[slot] = id;
    this.#values[slot] = value;
    this.#size++;
    return id;
  }

  /** The entry held under `taskId`, or undefined. */
  get(taskId: number): T | undefined {
    const slot = taskId & this.#slotMask;
    if (this.#ids[slot] !== taskId) return undefined;
    return this.#values[slot] ?? undefined;
  }

  /** Frees `taskId`'s slot; false if no entry is held under it. */
  delete(taskId: number): boolean {
    const slot = taskId & this.#slotMask;
    if (this.#ids[slot] !== taskId || this.#values[slot] === null) return false;
    this.#values[slot] = null;
    this.#free.push(slot);
    this.#size--;
    return true;
  }

  /** Every entry held, as a snapshot (safe to settle them while iterating). */
  values(): T[] {
    const out: T[] = [];
    for (const value of this.#values) if (value !== null) out.push(value);
    return out;
  }

  /** Frees every slot. */
  clear(): void {
    this.#values.fill(null);
    this.#free.length = 0;
    for (let slot = this.#values.length - 1; slot >= 0; slot--) this.#free.push(slot);
    this.#size = 0;
  }
}
