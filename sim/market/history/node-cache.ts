// A bounded least-recently-used cache of split history nodes, shared by every symbol's history.
import type { HistNode } from './history-node.js';

/**
 * Children of recently split nodes, keyed by a number each symbol's history makes from its own
 * index, the level and the start. Splits are deterministic, so an evicted entry is simply computed
 * again; the bound keeps memory flat at any universe size. Eviction is first in, first out (a hit
 * does not refresh an entry: that bookkeeping costs more than the occasional recomputation).
 */
export class NodeCache {
  readonly #capacity: number;
  readonly #entries = new Map<number, readonly HistNode[]>();
  #hits = 0;
  #misses = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity ${capacity}`);
    this.#capacity = capacity;
  }

  /** The cached children, or `make()`'s (then cached). */
  get(key: number, make: () => readonly HistNode[]): readonly HistNode[] {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#hits += 1;
      return found;
    }
    this.#misses += 1;
    const made = make();
    this.#entries.set(key, made);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return made;
  }

  stats(): { entries: number; hits: number; misses: number } {
    return { entries: this.#entries.size, hits: this.#hits, misses: this.#misses };
  }
}
