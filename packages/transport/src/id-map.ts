import { readWord } from "./id-words.js";
import type { KeyIndex } from "./key-index.js";

/** A 30-bit hash of a 16-byte id: small enough to stay a V8 small integer, so Map keys stay cheap. */
function hashId(id: Uint8Array): number {
  const h =
    Math.imul(readWord(id, 0), 0x9e3779b1) ^ Math.imul(readWord(id, 4), 0x85ebca77) ^ Math.imul(readWord(id, 8), 0xc2b2ae3d) ^ Math.imul(readWord(id, 12), 0x27d4eb2f);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** An id as a Map key the exact way: one char per byte (latin1). */
function textKey(id: Uint8Array): string {
  const bytes = Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength);
  return bytes.toString("latin1");
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return readWord(a, 0) === readWord(b, 0) && readWord(a, 4) === readWord(b, 4) && readWord(a, 8) === readWord(b, 8) && readWord(a, 12) === readWord(b, 12);
}

/**
 * Items by 16-byte requestId, for ids chosen by someone else (a provider cannot assume anything
 * about the broker's): keyed by a hash of the id's four words, so a lookup builds no string and
 * allocates nothing. An item whose hash another id already holds — rare by chance, and harmless
 * if provoked — goes to a second Map keyed by the id as latin1 text, the slow but exact way.
 *
 *   byHash:   hash(id) ─► item   (the item's own id confirms the match)
 *   overflow: latin1(id) ─► item (only while hashes collide)
 *
 * `idOf(item)` gives the id an item was filed under; it must not change while the item is held.
 */
export class IdMap<T> implements KeyIndex<Uint8Array, T> {
  readonly #byHash = new Map<number, T>();
  readonly #overflow = new Map<string, T>();
  readonly #idOf: (item: T) => Uint8Array;
  readonly #hash: (id: Uint8Array) => number;

  /** `hash` is for tests, which need collisions on demand; it must return small non-negative integers. */
  constructor(idOf: (item: T) => Uint8Array, hash: (id: Uint8Array) => number = hashId) {
    this.#idOf = idOf;
    this.#hash = hash;
  }

  get size(): number {
    return this.#byHash.size + this.#overflow.size;
  }

  get(id: Uint8Array): T | undefined {
    const item = this.#byHash.get(this.#hash(id));
    if (item !== undefined && sameId(this.#idOf(item), id)) return item;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(textKey(id));
  }

  add(id: Uint8Array, item: T): boolean {
    const hash = this.#hash(id);
    const held = this.#byHash.get(hash);
    if (held === undefined) {
      // The id may sit in overflow, filed when its hash was taken: one place per id.
      if (this.#overflow.size > 0 && this.#overflow.has(textKey(id))) return false;
      this.#byHash.set(hash, item);
      return true;
    }
    if (sameId(this.#idOf(held), id)) return false;
    const key = textKey(id);
    if (this.#overflow.has(key)) return false;
    this.#overflow.set(key, item);
    return true;
  }

  remove(id: Uint8Array, item?: T): T | undefined {
    const hash = this.#hash(id);
    const held = this.#byHash.get(hash);
    if (held !== undefined && (held === item || (item === undefined && sameId(this.#idOf(held), id)))) {
      this.#byHash.delete(hash);
      return held;
    }
    if (this.#overflow.size === 0) return undefined;
    const key = textKey(id);
    const found = this.#overflow.get(key);
    if (found === undefined || (item !== undefined && found !== item)) return undefined;
    this.#overflow.delete(key);
    return found;
  }

  *values(): IterableIterator<T> {
    yield* this.#byHash.values();
    yield* this.#overflow.values();
  }
}
