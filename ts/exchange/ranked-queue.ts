// Waiting requests ordered by priority rank, aging one rank per window they were passed over, oldest first within a rank.

/** One waiting entry with the bookkeeping the order needs. */
export interface Ranked<T> {
  readonly item: T;
  /** The rank it asked with (0 is served first). */
  readonly rank: number;
  /** Arrival order: ties of effective rank go to the older entry. */
  readonly seq: number;
  /** Windows that ended while it waited. */
  passes: number;
}

/** The rank an entry competes with now: its own, one better for every window it waited. */
export function effectiveRank(entry: Ranked<unknown>): number {
  return Math.max(0, entry.rank - entry.passes);
}

/**
 * A priority queue with aging, so no rank starves: strict priority would let a steady stream of
 * higher-ranked requests hold a lower one back forever; here every window boundary that passes a
 * waiting entry over moves it one rank up, so an entry of rank r competes as rank 0 after r
 * windows and, being older than every rank-0 entry that arrived since, is served within r + 1
 * windows of capacity. The queues are short (a few requests per process), so a linear scan is
 * cheaper than keeping a heap ordered while ranks change.
 */
export class RankedQueue<T> {
  readonly #entries: Ranked<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#entries.length;
  }

  /** Adds `item` with `rank`; returns its entry. */
  push(item: T, rank: number): Ranked<T> {
    const entry: Ranked<T> = { item, rank, seq: this.#seq++, passes: 0 };
    this.#entries.push(entry);
    return entry;
  }

  /** Puts back an entry taken out earlier, keeping its age (a request that must wait again). */
  restore(entry: Ranked<T>): void {
    if (!this.#entries.includes(entry)) this.#entries.push(entry);
  }

  /**
   * The entry served next: lowest effective rank, then oldest; with `where`, the first in that
   * order whose item matches it.
   */
  peek(where?: (item: T) => boolean): Ranked<T> | undefined {
    let best: Ranked<T> | undefined;
    for (const entry of this.#entries) {
      if (where !== undefined && !where(entry.item)) continue;
      if (best === undefined) {
        best = entry;
        continue;
      }
      const a = effectiveRank(entry);
      const b = effectiveRank(best);
      if (a < b || (a === b && entry.seq < best.seq)) best = entry;
    }
    return best;
  }

  /** Removes `entry` (a no-op when it is no longer queued). */
  remove(entry: Ranked<T>): void {
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
  }

  /** Removes and returns every entry whose item matches `predicate`. */
  removeWhere(predicate: (item: T) => boolean): Ranked<T>[] {
    const removed: Ranked<T>[] = [];
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i];
      if (entry !== undefined && predicate(entry.item)) {
        removed.unshift(entry);
        this.#entries.splice(i, 1);
      }
    }
    return removed;
  }

  /** A window ended with these entries still waiting: each moves one rank up. */
  passOver(): void {
    for (const entry of this.#entries) entry.passes += 1;
  }

  /** The waiting entries in arrival order. */
  entries(): readonly Ranked<T>[] {
    return this.#entries;
  }
}
