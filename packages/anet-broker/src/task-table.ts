import { SlotTable } from "@switchyard/transport/internal";

/** Most entries a TaskTable holds: 2²⁴, so at least 8 bits of every task id count a slot's uses. */
export const MAX_TASK_TABLE_CAPACITY = 2 ** 24;

/**
 * The requests in flight on one connection, by the task id each was given: transport's SlotTable
 * (slot + generation) with its ids packed into the u32 the anet wire carries. A task id is a slot
 * number in its low bits and that slot's generation (use count) in its high bits, so finding the
 * request of a response is an array read and one comparison (no hashing), and ids are unique among
 * the entries held at once because each slot holds one.
 *
 *   taskId = generation << slotBits | slot   (the generation wraps within the high 32 − slotBits bits)
 *
 * An id whose slot is free or holds another use (a response to nothing asked) is not found.
 */
export class TaskTable<T> {
  readonly #slotBits: number;
  readonly #slotMask: number;
  readonly #slots: SlotTable<T>;

  /** `capacity`: most entries at once (1 ..= MAX_TASK_TABLE_CAPACITY); it sizes the slot bits of the ids. */
  constructor(capacity: number) {
    this.#slotBits = Math.max(1, Math.ceil(Math.log2(Math.min(capacity, MAX_TASK_TABLE_CAPACITY))));
    this.#slotMask = 2 ** this.#slotBits - 1;
    this.#slots = new SlotTable(this.#slotMask + 1);
  }

  /** Entries held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Holds `value` under a task id no entry held now has, and returns that id (a u32). */
  add(value: T): number {
    const slot = this.#slots.add(value);
    return this.#taskId(slot);
  }

  /** The entry held under `taskId`, or undefined. */
  get(taskId: number): T | undefined {
    const slot = taskId & this.#slotMask;
    return this.#taskId(slot) === taskId ? this.#slots.at(slot) : undefined;
  }

  /** Frees `taskId`'s slot; false if no entry is held under it. */
  delete(taskId: number): boolean {
    const slot = taskId & this.#slotMask;
    return this.#taskId(slot) === taskId && this.#slots.delete(slot) !== undefined;
  }

  /** Every entry held, as a snapshot (safe to settle them while iterating). */
  values(): T[] {
    return this.#slots.values();
  }

  /** Frees every slot. */
  clear(): void {
    this.#slots.clear();
  }

  /** The task id of `slot`'s current (or last) use: `<<` keeps the generation's low bits, `>>> 0` makes it unsigned. */
  #taskId(slot: number): number {
    return ((this.#slots.generation(slot) << this.#slotBits) | slot) >>> 0;
  }
}
