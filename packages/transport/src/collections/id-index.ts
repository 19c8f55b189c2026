import type { KeyIndex } from "./key-index.js";
import { hashRequestId, type IdKeyed, RequestIdTable } from "./request-id-table.js";

/**
 * A KeyIndex of items by a 16-byte id someone else chose (a provider's requests by the broker's
 * requestId), over a RequestIdTable: a lookup hashes the id's four words and allocates nothing.
 * Each item carries its id as words and `idHash`, which must be `hash` of that id.
 */
export class IdIndex<T extends IdKeyed> implements KeyIndex<Uint8Array, T> {
  readonly #table = new RequestIdTable<T>();
  readonly #hash: (id: Uint8Array) => number;

  /** `hash` is for tests, which need collisions on demand. */
  constructor(hash: (id: Uint8Array) => number = hashRequestId) {
    this.#hash = hash;
  }

  get size(): number {
    return this.#table.size;
  }

  get(id: Uint8Array): T | undefined {
    return this.#table.find(id, this.#hash(id));
  }

  add(id: Uint8Array, item: T): boolean {
    if (this.get(id) !== undefined) return false;
    this.#table.add(item);
    return true;
  }

  remove(id: Uint8Array, item?: T): T | undefined {
    const held = this.get(id);
    if (held === undefined || (item !== undefined && held !== item)) return undefined;
    this.#table.delete(held);
    return held;
  }

  values(): IterableIterator<T> {
    return this.#table.toArray().values();
  }
}
