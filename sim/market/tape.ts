// The bounded public tape of one symbol's live trades, kept compactly, queried like GET /fapi/v1/aggTrades.
import type { PriceUnits } from './history/price-units.js';

/** One aggregate trade as the market publishes it; `p`/`q` are its exact strings. */
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

/** A trade in integer units, as the tape stores it. */
export interface TapeEntry {
  readonly a: number;
  readonly ticks: number;
  readonly steps: number;
  readonly f: number;
  readonly l: number;
  readonly T: number;
  readonly m: boolean;
}

/** A tape query; the fields are GET /fapi/v1/aggTrades parameters. */
export interface TapeQuery {
  readonly fromId?: number | undefined;
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly limit: number;
}

const FIELDS = 5;

/**
 * The last `capacity` aggregate trades of a symbol in one typed array (41 bytes a trade), oldest
 * first. Ids are contiguous (the market assigns them), so an id lookup is an index; times never
 * decrease, so a time lookup is a binary search. Older trades are dropped: the tape says from
 * which id it is complete.
 */
export class AggTradeTape {
  readonly #capacity: number;
  readonly #units: PriceUnits;
  #numbers: Float64Array;
  #makers: Uint8Array;
  #size: number;
  #start = 0;
  #count = 0;
  #firstId = 0;

  constructor(capacity: number, units: PriceUnits) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`tape capacity ${capacity} must be ≥ 1`);
    this.#capacity = capacity;
    this.#units = units;
    this.#size = Math.min(capacity, 64);
    this.#numbers = new Float64Array(FIELDS * this.#size);
    this.#makers = new Uint8Array(this.#size);
  }

  /** Appends the next trade; its id must follow the last one and its time must not go back. */
  append(trade: TapeEntry): void {
    const last = this.#entry(this.#count - 1);
    if (last !== undefined && (trade.a !== last.a + 1 || trade.T < last.T)) {
      throw new RangeError(`tape out of order: trade ${trade.a}@${trade.T} after ${last.a}@${last.T}`);
    }
    if (this.#count === 0) this.#firstId = trade.a;
    if (this.#count === this.#size && this.#size < this.#capacity) this.#grow();
    let slot: number;
    if (this.#count === this.#size) {
      slot = this.#start;
      this.#start = (this.#start + 1) % this.#size;
      this.#firstId += 1;
    } else {
      slot = (this.#start + this.#count) % this.#size;
      this.#count += 1;
    }
    this.#numbers.set([trade.ticks, trade.steps, trade.f, trade.l, trade.T], FIELDS * slot);
    this.#makers[slot] = trade.m ? 1 : 0;
  }

  get size(): number {
    return this.#count;
  }

  last(): TapeTrade | undefined {
    return this.#trade(this.#count - 1);
  }

  first(): TapeTrade | undefined {
    return this.#trade(0);
  }

  /** The trades a GET /fapi/v1/aggTrades request with these parameters returns, oldest first. */
  query(q: TapeQuery): TapeTrade[] {
    if (this.#count === 0) return [];
    let from: number;
    if (q.fromId !== undefined) {
      from = Math.max(0, q.fromId - this.#firstId);
    } else if (q.startTime !== undefined) {
      from = this.#firstAtOrAfter(q.startTime);
    } else {
      const stop = q.endTime === undefined ? this.#count : this.#firstAtOrAfter(q.endTime + 1);
      from = Math.max(0, stop - q.limit);
    }
    const out: TapeTrade[] = [];
    for (let i = from; i < this.#count && out.length < q.limit; i++) {
      const trade = this.#entry(i);
      if (trade === undefined) break;
      if (q.startTime !== undefined && trade.T < q.startTime) continue;
      if (q.endTime !== undefined && trade.T > q.endTime) break;
      out.push(this.#text(trade));
    }
    return out;
  }

  #entry(index: number): TapeEntry | undefined {
    if (index < 0 || index >= this.#count) return undefined;
    const slot = (this.#start + index) % this.#size;
    const p = FIELDS * slot;
    const n = this.#numbers;
    return {
      a: this.#firstId + index,
      ticks: n[p] ?? 0,
      steps: n[p + 1] ?? 0,
      f: n[p + 2] ?? 0,
      l: n[p + 3] ?? 0,
      T: n[p + 4] ?? 0,
      m: this.#makers[slot] === 1,
    };
  }

  #trade(index: number): TapeTrade | undefined {
    const entry = this.#entry(index);
    return entry === undefined ? undefined : this.#text(entry);
  }

  #text(e: TapeEntry): TapeTrade {
    return {
      a: e.a,
      p: this.#units.price(e.ticks),
      q: this.#units.qty(BigInt(e.steps)),
      f: e.f,
      l: e.l,
      T: e.T,
      m: e.m,
    };
  }

  /** Index of the first trade at or after `time` (the count when none). */
  #firstAtOrAfter(time: number): number {
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const trade = this.#entry(mid);
      if (trade !== undefined && trade.T < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #grow(): void {
    const size = Math.min(this.#capacity, this.#size * 4);
    const numbers = new Float64Array(FIELDS * size);
    const makers = new Uint8Array(size);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#start + i) % this.#size;
      numbers.set(this.#numbers.subarray(FIELDS * from, FIELDS * from + FIELDS), FIELDS * i);
      makers[i] = this.#makers[from] ?? 0;
    }
    this.#numbers = numbers;
    this.#makers = makers;
    this.#size = size;
    this.#start = 0;
  }
}
