import type { Series } from './series.js';

/** One tracked key: its series, linked into its table's recency list. */
class KeyNode {
  readonly key: string;
  readonly series: Series;
  /** The next more recently seen key, or `undefined` for the newest. */
  newer: KeyNode | undefined = undefined;
  /** The next less recently seen key, or `undefined` for the oldest. */
  older: KeyNode | undefined = undefined;

  constructor(key: string, series: Series) {
    this.key = key;
    this.series = series;
  }
}

/**
 * The keys of one policy, at most `max`, least recently seen evicted: an exact LRU. A `Map` finds
 * a key's series, a doubly linked list through the series keeps the recency order. Seeing a key
 * is one `Map.get` and a few pointer writes; it allocates only for a key not tracked yet (its
 * series, which replaces the evicted one). This is what `lru-cache` did here, without its
 * bookkeeping (TTLs, sizes, dispose hooks) — the part of it the sink used cost ~2× a `Map.get`.
 */
export class KeyTable {
  readonly max: number;
  /** Keys evicted so far to respect `max`. */
  evicted = 0;
  readonly #create: () => Series;
  readonly #map = new Map<string, KeyNode>();
  #newest: KeyNode | undefined = undefined;
  #oldest: KeyNode | undefined = undefined;

  /** `create` makes the series of a key seen for the first time. */
  constructor(max: number, create: () => Series) {
    this.max = max;
    this.#create = create;
  }

  /** Keys tracked now (≤ `max`). */
  get size(): number {
    return this.#map.size;
  }

  /** The series of `key`, now the most recently seen; created (evicting the oldest past `max`). */
  touch(key: string): Series {
    let node = this.#map.get(key);
    if (node === undefined) {
      if (this.#map.size >= this.max) this.#evict();
      node = new KeyNode(key, this.#create());
      this.#map.set(key, node);
    } else {
      if (node === this.#newest) return node.series;
      // Unlink: it is not the newest, so it has a newer neighbour.
      const newer = node.newer as KeyNode;
      const older = node.older;
      newer.older = older;
      if (older === undefined) this.#oldest = newer;
      else older.newer = newer;
      node.newer = undefined;
    }
    const newest = this.#newest;
    node.older = newest;
    if (newest === undefined) this.#oldest = node;
    else newest.newer = node;
    this.#newest = node;
    return node.series;
  }

  /** `[key, series]` pairs, most recently seen first. */
  *entries(): IterableIterator<[string, Series]> {
    for (let node = this.#newest; node !== undefined; node = node.older) yield [node.key, node.series];
  }

  #evict(): void {
    const oldest = this.#oldest;
    if (oldest === undefined) return;
    this.#map.delete(oldest.key);
    const newer = oldest.newer;
    this.#oldest = newer;
    if (newer === undefined) this.#newest = undefined;
    else newer.older = undefined;
    this.evicted++;
  }
}
