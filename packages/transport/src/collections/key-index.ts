/** How a RequestTable finds its items by key. */
export interface KeyIndex<K, T> {
  /** Items held. */
  readonly size: number;
  get(key: K): T | undefined;
  /** Files `item` under `key`; false, and nothing changed, when the key is taken. */
  add(key: K, item: T): boolean;
  /** Removes what `key` holds — only if it is `item`, when given — and returns it; undefined if nothing was removed. */
  remove(key: K, item?: T): T | undefined;
  values(): IterableIterator<T>;
}

/** A KeyIndex over a Map, for keys Map compares well (strings, numbers). */
export class MapIndex<K, T> implements KeyIndex<K, T> {
  readonly #map = new Map<K, T>();

  get size(): number {
    return this.#map.size;
  }

  get(key: K): T | undefined {
    return this.#map.get(key);
  }

  add(key: K, item: T): boolean {
    if (this.#map.has(key)) return false;
    this.#map.set(key, item);
    return true;
  }

  remove(key: K, item?: T): T | undefined {
    const found = this.#map.get(key);
    if (found === undefined || (item !== undefined && found !== item)) return undefined;
    this.#map.delete(key);
    return found;
  }

  values(): IterableIterator<T> {
    return this.#map.values();
  }
}
