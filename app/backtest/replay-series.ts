// Bar columns of a backtest, filled from the replayed bars: the same column interface as the native book's views.
import type { BarSeries } from '../../trader/engine/market-data.js';
import { KLINE_COLUMNS, type KlineColumn } from '../../ts/native/trader-book.js';
import { isMicros } from './csv-lines.js';

const COLUMN_INDEX = new Map<KlineColumn, number>(KLINE_COLUMNS.map((c, i) => [c, i]));
/** The columns a pushed row gives: every one but `closed` (the last), in block order. */
const ROW_COLUMNS = KLINE_COLUMNS.length - 1;
const CLOSED = COLUMN_INDEX.get('closed') as number;

/**
 * The last `capacity` bars of one series as Float64Array columns, oldest first (a strategy reads
 * them exactly as it reads `KlineSeriesView` live). Appending is amortised O(1): rows live in a
 * buffer twice the capacity and slide back when it fills.
 */
export class ReplaySeries implements BarSeries {
  readonly capacity: number;
  readonly #columns: Float64Array[];
  #start = 0;
  #end = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#columns = KLINE_COLUMNS.map(() => new Float64Array(capacity * 2));
  }

  get length(): number {
    return this.#end - this.#start;
  }

  values(column: KlineColumn): Float64Array {
    const col = this.#columns[COLUMN_INDEX.get(column) as number] as Float64Array;
    return col.subarray(this.#start, this.#end);
  }

  /**
   * Appends a closed bar (11 values in column order, `closed` left out: a replay's bars are final),
   * or replaces the last one when it has the same open time.
   */
  push(row: ArrayLike<number>): void {
    const open = this.#columns[0] as Float64Array;
    if (this.#end > this.#start && open[this.#end - 1] === row[0]) {
      for (let c = 0; c < ROW_COLUMNS; c++)
        (this.#columns[c] as Float64Array)[this.#end - 1] = row[c] as number;
      return;
    }
    if (this.#end === this.capacity * 2) {
      for (const col of this.#columns) col.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    for (let c = 0; c < ROW_COLUMNS; c++) (this.#columns[c] as Float64Array)[this.#end] = row[c] as number;
    (this.#columns[CLOSED] as Float64Array)[this.#end] = 1;
    this.#end += 1;
    if (this.#end - this.#start > this.capacity) this.#start += 1;
  }
}

/**
 * Parses one kline row of the dump layout (`openTime,open,high,low,close,volume,closeTime,
 * quoteVolume,trades,takerBuyVolume,takerBuyQuoteVolume,ignore`) into column order, times in
 * milliseconds; undefined for a header or malformed row.
 */
export function klineRowValues(line: string): number[] | undefined {
  const f = line.split(',');
  if (f.length < 11) return undefined;
  const v = [f[0], f[6], f[1], f[2], f[3], f[4], f[5], f[7], f[8], f[9], f[10]].map(Number);
  if (!v.every(Number.isFinite)) return undefined;
  // Spot dumps since 2025 (and the bars the aggregator builds from them) give µs times; the
  // replay steps, the clock and funding all count milliseconds.
  for (const i of [0, 1]) if (isMicros(v[i] as number)) v[i] = Math.floor((v[i] as number) / 1000);
  return v;
}
