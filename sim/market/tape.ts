// The bounded public tape of one symbol: aggregate trades with ids, queried like GET /fapi/v1/aggTrades.

/** One aggregate trade as the market recorded it; `p`/`q` are the exact strings it publishes. */
export interface TapeTrade {
  /** Aggregate trade id. */
  readonly a: number;
  readonly p: string;
  readonly q: string;
  /** First and last underlying trade ids. */
  readonly f: number;
  readonly l: number;
  /** Trade time, Unix ms. */
  readonly T: number;
  /** Buyer was the maker (the taker sold). */
  readonly m: boolean;
}

/** A tape query; the fields are GET /fapi/v1/aggTrades parameters. */
export interface TapeQuery {
  readonly fromId?: number | undefined;
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly limit: number;
}

/**
 * The last `capacity` aggregate trades of a symbol, in id order. Ids are contiguous (the market
 * assigns them), so an id lookup is an index; times never decrease, so a time lookup is a binary
 * search.
 */
export class AggTradeTape {
  readonly #capacity: number;
  #trades: TapeTrade[] = [];
  #start = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`tape capacity ${capacity} must be ≥ 1`);
    this.#capacity = capacity;
  }

  /** Appends the next trade; its id must follow the last one and its time must not go back. */
  append(trade: TapeTrade): void {
    const last = this.last();
    if (last !== undefined && (trade.a !== last.a + 1 || trade.T < last.T)) {
      throw new RangeError(`tape out of order: trade ${trade.a}@${trade.T} after ${last.a}@${last.T}`);
    }
    this.#trades.push(trade);
    if (this.#trades.length - this.#start > this.#capacity) this.#start += 1;
    // Compact now and then so dropped trades are freed without shifting the array every append.
    if (this.#start >= this.#capacity) {
      this.#trades = this.#trades.slice(this.#start);
      this.#start = 0;
    }
  }

  get size(): number {
    return this.#trades.length - this.#start;
  }

  last(): TapeTrade | undefined {
    return this.#trades.length > this.#start ? this.#trades[this.#trades.length - 1] : undefined;
  }

  first(): TapeTrade | undefined {
    return this.#trades[this.#start];
  }

  /** The trades a GET /fapi/v1/aggTrades request with these parameters returns, oldest first. */
  query(q: TapeQuery): TapeTrade[] {
    const first = this.first();
    if (first === undefined) return [];
    const end = this.#trades.length;
    let from: number;
    if (q.fromId !== undefined) {
      from = this.#start + Math.max(0, q.fromId - first.a);
    } else if (q.startTime !== undefined) {
      from = this.#firstAtOrAfter(q.startTime);
    } else {
      const stop = q.endTime === undefined ? end : this.#firstAtOrAfter(q.endTime + 1);
      from = Math.max(this.#start, stop - q.limit);
    }
    const out: TapeTrade[] = [];
    for (let i = from; i < end && out.length < q.limit; i++) {
      const trade = this.#trades[i];
      if (trade === undefined) break;
      if (q.startTime !== undefined && trade.T < q.startTime) continue;
      if (q.endTime !== undefined && trade.T > q.endTime) break;
      out.push(trade);
    }
    return out;
  }

  /** Index of the first trade at or after `time` (the end when none). */
  #firstAtOrAfter(time: number): number {
    let lo = this.#start;
    let hi = this.#trades.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const trade = this.#trades[mid];
      if (trade !== undefined && trade.T < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
