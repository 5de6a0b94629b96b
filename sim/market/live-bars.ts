// The live market's klines: the native aggregator's open bars and its closed bars kept compactly.
import { BarAggregator, type BarObject } from '../../ts/native/bar-aggregator.js';
import type { AggregatorBatchResult } from '../../ts/native/index.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { PriceUnits } from './history/price-units.js';
import { emptyBar, fromKlineObject, type IntBar } from './int-bar.js';

/** The intervals the native aggregator builds (every fixed-length one; `1M` is folded from days). */
export type FixedInterval = Exclude<IntervalName, '1M'>;

const MINUTE = 60_000;
/** Length of each fixed interval in ms. */
export const INTERVAL_MS: Readonly<Record<FixedInterval, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '8h': 480 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': 1440 * MINUTE,
  '3d': 3 * 1440 * MINUTE,
  '1w': 7 * 1440 * MINUTE,
};
export const FIXED_INTERVALS = Object.keys(INTERVAL_MS) as FixedInterval[];

/** Closed bars kept per interval: enough for one `limit=1500` request of any interval. */
export const LIVE_BARS_KEPT = 1500;
const FIRST_CAPACITY = 16;
const NO_ID = -1;

/**
 * Consecutive closed bars of one interval in typed arrays (96 bytes a bar), growing by doubling up
 * to `capacity`, then overwriting the oldest. Bars are found by open time.
 */
export class BarRing {
  readonly #length: number;
  readonly #capacity: number;
  #size = FIRST_CAPACITY;
  #start = 0;
  #count = 0;
  /** Open time of the oldest bar kept. */
  #firstOpen = 0;
  #evicted = false;
  #prices = new Float64Array(4 * FIRST_CAPACITY);
  #sums = new BigInt64Array(4 * FIRST_CAPACITY);
  #numbers = new Float64Array(4 * FIRST_CAPACITY);

  constructor(lengthMs: number, capacity = LIVE_BARS_KEPT) {
    this.#length = lengthMs;
    this.#capacity = capacity;
  }

  get count(): number {
    return this.#count;
  }

  /** Whether bars opened before `openTime` were kept once and have been overwritten. */
  forgot(openTime: number): boolean {
    return this.#evicted && openTime < this.#firstOpen;
  }

  /** Open time of the newest bar kept, or undefined. */
  newestOpen(): number | undefined {
    return this.#count === 0 ? undefined : this.#firstOpen + (this.#count - 1) * this.#length;
  }

  /** Appends a closed bar; a gap since the newest is filled with empty bars at its close. */
  push(bar: IntBar): void {
    const newest = this.newestOpen();
    if (newest !== undefined) {
      if (bar.openTime <= newest) return;
      const missing = Math.min(this.#capacity, (bar.openTime - newest) / this.#length - 1);
      const last = this.get(newest);
      for (let i = missing; i >= 1 && last !== undefined; i--) {
        const open = bar.openTime - i * this.#length;
        this.#append(emptyBar(last.close, open, open + this.#length - 1, last.asOf));
      }
    }
    this.#append(bar);
  }

  /** The bar opened at `openTime`, if kept. */
  get(openTime: number): IntBar | undefined {
    const index = (openTime - this.#firstOpen) / this.#length;
    if (this.#count === 0 || !Number.isInteger(index) || index < 0 || index >= this.#count) return undefined;
    const slot = (this.#start + index) % this.#size;
    const p = 4 * slot;
    const first = this.#numbers[p + 1] ?? NO_ID;
    const last = this.#numbers[p + 2] ?? NO_ID;
    return {
      openTime,
      closeTime: openTime + this.#length - 1,
      open: this.#prices[p] ?? 0,
      high: this.#prices[p + 1] ?? 0,
      low: this.#prices[p + 2] ?? 0,
      close: this.#prices[p + 3] ?? 0,
      volume: this.#sums[p] ?? 0n,
      quote: this.#sums[p + 1] ?? 0n,
      takerVolume: this.#sums[p + 2] ?? 0n,
      takerQuote: this.#sums[p + 3] ?? 0n,
      trades: this.#numbers[p] ?? 0,
      firstTradeId: first === NO_ID ? undefined : first,
      lastTradeId: last === NO_ID ? undefined : last,
      asOf: this.#numbers[p + 3] ?? 0,
    };
  }

  #append(bar: IntBar): void {
    if (this.#count === 0) this.#firstOpen = bar.openTime;
    if (this.#count === this.#size && this.#size < this.#capacity) this.#grow();
    let slot: number;
    if (this.#count === this.#size) {
      slot = this.#start;
      this.#evicted = true;
      this.#start = (this.#start + 1) % this.#size;
      this.#firstOpen += this.#length;
    } else {
      slot = (this.#start + this.#count) % this.#size;
      this.#count += 1;
    }
    const p = 4 * slot;
    this.#prices.set([bar.open, bar.high, bar.low, bar.close], p);
    this.#sums.set([bar.volume, bar.quote, bar.takerVolume, bar.takerQuote], p);
    this.#numbers.set([bar.trades, bar.firstTradeId ?? NO_ID, bar.lastTradeId ?? NO_ID, bar.asOf], p);
  }

  #grow(): void {
    const size = Math.min(this.#capacity, this.#size * 2);
    const prices = new Float64Array(4 * size);
    const sums = new BigInt64Array(4 * size);
    const numbers = new Float64Array(4 * size);
    for (let i = 0; i < this.#count; i++) {
      const from = 4 * ((this.#start + i) % this.#size);
      prices.set(this.#prices.subarray(from, from + 4), 4 * i);
      sums.set(this.#sums.subarray(from, from + 4), 4 * i);
      numbers.set(this.#numbers.subarray(from, from + 4), 4 * i);
    }
    this.#prices = prices;
    this.#sums = sums;
    this.#numbers = numbers;
    this.#size = size;
    this.#start = 0;
  }
}

/**
 * Klines of the live market. Every trade reaches the native aggregator as the exact `aggTrade`
 * message the market publishes, so the bars are what a client would build from the stream; closed
 * bars are kept in a {@link BarRing} per interval, the open ones are the aggregator's.
 */
export class LiveBars {
  readonly #aggregator: BarAggregator;
  readonly #units: PriceUnits;
  readonly #rings = new Map<FixedInterval, BarRing>();

  constructor(symbol: string, units: PriceUnits, kept = LIVE_BARS_KEPT) {
    this.#aggregator = new BarAggregator(symbol, [...FIXED_INTERVALS]);
    this.#units = units;
    for (const interval of FIXED_INTERVALS)
      this.#rings.set(interval, new BarRing(INTERVAL_MS[interval], kept));
  }

  /** Applies aggTrade messages; closed bars are kept and returned in the result. */
  push(messages: Buffer[]): AggregatorBatchResult {
    const result = this.#aggregator.pushMessages(messages);
    this.#keep(result.closed);
    return result;
  }

  /** Closes the bars that ended at or before `now` (empty ones too); returns them. */
  advance(now: number): BarObject[] {
    const closed = this.#aggregator.advanceTo(now);
    this.#keep(closed);
    return closed;
  }

  /** The closed bar opened at `openTime`, or the open one when it opened then. */
  bar(interval: FixedInterval, openTime: number): { bar: IntBar; closed: boolean } | undefined {
    const kept = this.#rings.get(interval)?.get(openTime);
    if (kept !== undefined) return { bar: kept, closed: true };
    const open = this.#aggregator.openBar(interval);
    if (open === null || open.kline.openTime !== openTime) return undefined;
    return { bar: fromKlineObject(open.kline, this.#units), closed: false };
  }

  /** Whether the bar of `interval` opened at `openTime` was closed long ago and is no longer kept. */
  forgot(interval: FixedInterval, openTime: number): boolean {
    return this.#rings.get(interval)?.forgot(openTime) ?? false;
  }

  #keep(closed: BarObject[]): void {
    for (const bar of closed) {
      const ring = this.#rings.get(bar.interval as FixedInterval);
      ring?.push(fromKlineObject(bar.kline, this.#units));
    }
  }
}
