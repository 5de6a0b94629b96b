// Typed facade over the native trader book, with cached copy-free views of its columns.
import type {
  ApplyIssue,
  ApplyManyResult,
  ApplyOutcomeObject,
  TraderBookStatsObject,
} from '../../bindings/index.cjs';
import { binding } from './binding.js';
import type { IntervalName } from './interval.js';
import { callNative } from './native-error.js';
import type { Balance, BanList, Kline, Position, PositionSide, Tick } from './records.js';

export type {
  ApplyIssue,
  ApplyManyResult,
  ApplyOutcomeObject as ApplyOutcome,
  TraderBookStatsObject as TraderBookStats,
};

/** The columns of a kline series block, in block order. */
export const KLINE_COLUMNS = [
  'openTime',
  'closeTime',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'trades',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
] as const;

export type KlineColumn = (typeof KLINE_COLUMNS)[number];

/**
 * Live, copy-free columns of one `(symbol, interval)` series: each column is a Float64Array over
 * native memory, rows `[0, length)` oldest first. Values are the nearest doubles of the exact
 * decimals (use `TraderBook.klines` for exact strings). Views stay current as frames apply.
 */
export class KlineSeriesView {
  readonly #columns: Record<KlineColumn, Float64Array>;
  readonly #count: () => number;

  constructor(block: Float64Array, capacity: number, count: () => number) {
    const columns: Partial<Record<KlineColumn, Float64Array>> = {};
    KLINE_COLUMNS.forEach((name, i) => {
      columns[name] = block.subarray(i * capacity, (i + 1) * capacity);
    });
    this.#columns = columns as Record<KlineColumn, Float64Array>;
    this.#count = count;
  }

  /** Bars held now. */
  get length(): number {
    return this.#count();
  }

  /** The whole column (capacity rows; rows past `length` are NaN). */
  column(name: KlineColumn): Float64Array {
    return this.#columns[name];
  }

  /** The held rows of a column, oldest first (a subarray: still no copy). */
  values(name: KlineColumn): Float64Array {
    return this.#columns[name].subarray(0, this.length);
  }
}

/**
 * The trader's local book: applies hub Delta and Snapshot frames in sequence per stream. A gap
 * makes the stream stale (`needsSnapshot` in the outcome) until a snapshot arrives.
 */
export class TraderBook {
  readonly #native: InstanceType<typeof binding.TraderBook>;
  readonly #views = new Map<string, KlineSeriesView | Float64Array>();

  constructor(window?: number) {
    this.#native = callNative(() => new binding.TraderBook(window));
  }

  get window(): number {
    return this.#native.window;
  }

  /** Applies one frame; an undecodable frame throws a `NativeError` with its reason. */
  apply(frame: Uint8Array): ApplyOutcomeObject {
    return callNative(() => this.#native.apply(frame));
  }

  /**
   * Applies frames in order in one native call: counts for the normal outcomes, and `issues` for
   * the frames that need attention (a gap: ask for a snapshot; a wrong kind; an undecodable frame).
   */
  applyMany(frames: Buffer[]): ApplyManyResult {
    return this.#native.applyMany(frames);
  }

  isStale(stream: number): boolean {
    return this.#native.isStale(stream);
  }

  staleStreams(): number[] {
    return this.#native.staleStreams();
  }

  /** Live columns of a series, or undefined until the series exists. */
  klineSeries(symbolId: number, interval: IntervalName): KlineSeriesView | undefined {
    const key = `k:${symbolId}:${interval}`;
    const cached = this.#views.get(key);
    if (cached instanceof KlineSeriesView) return cached;
    const block = callNative(() => this.#native.klineColumns(symbolId, interval));
    if (block === null) return undefined;
    const view = new KlineSeriesView(block, this.window, () => this.#native.klineCount(symbolId, interval));
    this.#views.set(key, view);
    return view;
  }

  /** Exact bars of a series, oldest first. */
  klines(symbolId: number, interval: IntervalName): Kline[] {
    return callNative(() => this.#native.klines(symbolId, interval));
  }

  /** Live `[bid, bidQty, ask, askQty, last (NaN if none), time]`. */
  tickValues(symbolId: number): Float64Array | undefined {
    return this.#cachedArray(`t:${symbolId}`, () => this.#native.tickValues(symbolId));
  }

  tick(symbolId: number): Tick | null {
    return this.#native.tick(symbolId);
  }

  /** Live `[amount, entryPrice, unrealizedPnl, markPrice, updateTime]` (NaN where unknown). */
  positionValues(symbolId: number, side: PositionSide): Float64Array | undefined {
    return this.#cachedArray(`p:${symbolId}:${side}`, () => this.#native.positionValues(symbolId, side));
  }

  position(symbolId: number, side: PositionSide): Position | null {
    return callNative(() => this.#native.position(symbolId, side));
  }

  /** Live `[wallet, crossWallet, available, unrealizedPnl, updateTime]` (NaN where unknown). */
  balanceValues(asset: string): Float64Array | undefined {
    return this.#cachedArray(`b:${asset}`, () => this.#native.balanceValues(asset));
  }

  balance(asset: string): Balance | null {
    return callNative(() => this.#native.balance(asset));
  }

  banList(): BanList {
    return this.#native.banList();
  }

  stats(): TraderBookStatsObject {
    return this.#native.stats();
  }

  #cachedArray(key: string, load: () => Float64Array | null): Float64Array | undefined {
    const cached = this.#views.get(key);
    if (cached instanceof Float64Array) return cached;
    const array = callNative(load);
    if (array === null) return undefined;
    this.#views.set(key, array);
    return array;
  }
}
