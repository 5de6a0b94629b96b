// Typed facade over the native trader book, with cached copy-free views of its columns.
import type { ApplyIssue, ApplyOutcomeObject, TraderBookStatsObject } from '../../bindings/index.cjs';
import { binding, hotCalls } from './binding.js';
import { BookChanges } from './book-changes.js';
import {
  BALANCE_SLOTS,
  type BalanceSlot,
  FRAME_KINDS,
  FRAME_RESULTS,
  type FrameKindName,
  type FrameResultName,
  KLINE_COLUMNS,
  type KlineColumn,
  MARK_SLOTS,
  type MarkSlot,
  POSITION_SLOTS,
  type PositionSlot,
  TICK_SLOTS,
  type TickSlot,
} from './book-layout.js';
import type { IntervalName } from './interval.js';
import { callNative } from './native-error.js';
import type { Balance, BanList, Kline, Mark, Position, PositionSide, Tick } from './records.js';

export type { ApplyIssue, ApplyOutcomeObject as ApplyOutcome, TraderBookStatsObject as TraderBookStats };
export {
  BALANCE_SLOTS,
  type BalanceSlot,
  type FrameKindName,
  type FrameResultName,
  KLINE_COLUMNS,
  type KlineColumn,
  MARK_SLOTS,
  type MarkSlot,
  POSITION_SLOTS,
  type PositionSlot,
  TICK_SLOTS,
  type TickSlot,
};

/** Numbers per frame in the native report: kind code, stream, seq, result code. */
const FRAME_FIELDS = 4;

/** One frame of an `applyMany` batch: what it was and what became of it. */
export interface FrameReport {
  /** The frame's kind, or `undecodable`. */
  kind: FrameKindName | 'undecodable';
  /** Stream and seq from the frame's header (undefined when it did not decode). */
  stream: number | undefined;
  seq: number | undefined;
  result: FrameResultName;
}

/**
 * What each frame of an `applyMany` batch was, read from one typed array the native book fills
 * on first use (a healthy batch whose reports nobody reads costs nothing per frame). Read it
 * before the next `applyMany` of the same book: it then describes that batch instead.
 */
export class FrameReports {
  readonly #load: () => Float64Array;
  #values: Float64Array | undefined;

  constructor(load: () => Float64Array) {
    this.#load = load;
  }

  /** Frames in the batch. */
  get length(): number {
    return this.#array().length / FRAME_FIELDS;
  }

  /** The stream of frame `index` (undefined when it did not decode). */
  stream(index: number): number | undefined {
    return this.#number(index, 1);
  }

  seq(index: number): number | undefined {
    return this.#number(index, 2);
  }

  kind(index: number): FrameKindName | 'undecodable' {
    return FRAME_KINDS[this.#array()[index * FRAME_FIELDS] ?? -1] ?? 'undecodable';
  }

  result(index: number): FrameResultName {
    return FRAME_RESULTS[this.#array()[index * FRAME_FIELDS + 3] ?? -1] ?? 'invalid';
  }

  /** Frame `index` as an object. */
  at(index: number): FrameReport {
    return {
      kind: this.kind(index),
      stream: this.stream(index),
      seq: this.seq(index),
      result: this.result(index),
    };
  }

  #array(): Float64Array {
    this.#values ??= this.#load();
    return this.#values;
  }

  #number(index: number, field: number): number | undefined {
    const value = this.#array()[index * FRAME_FIELDS + field];
    return value === undefined || Number.isNaN(value) ? undefined : value;
  }
}
/**
 * What a batch of frames did: counts of the normal outcomes, what each frame was, and the
 * frames that need attention (`gap`, `baseMismatch`, or `chunkDropped` of a stream out of sync:
 * ask the hub for a snapshot; `wrongKind`; `invalid`).
 */
export interface ApplyManyResult {
  applied: number;
  /** Snapshots completed: whole Snapshot frames, or the last chunk of a chunked one. The stream is in sync from then on. */
  snapshots: number;
  /** Snapshot chunks held until their snapshot's last chunk arrives. */
  chunks: number;
  duplicates: number;
  ignoredStale: number;
  issues: ApplyIssue[];
  frames: FrameReports;
  /** What the batch wrote: the book's {@link BookChanges}, valid until its next apply. */
  changes: BookChanges;
}

/** Each column's position in a series' block (`KLINE_COLUMNS` order); a Map, so `toString` is no column. */
const COLUMN_INDEX: ReadonlyMap<string, number> = new Map(KLINE_COLUMNS.map((name, i) => [name, i]));

/**
 * Live, copy-free columns of one `(symbol, interval)` series: each column is a Float64Array over
 * native memory, rows `[0, length)` oldest first. Values are the nearest doubles of the exact
 * decimals (use `TraderBook.klines` for exact strings). Views stay current as frames apply.
 *
 * A column's array is made the first time it is asked for, then kept: a trader following the
 * universe holds a view per series (1,800 at 600 symbols × 2 intervals) and a strategy reads a
 * few of the 12 columns, so making all 12 at once put 20,000 arrays through the young
 * generation's copies and promotion for nothing (docs/benchmarks-journal.md).
 */
export class KlineSeriesView {
  readonly #columns: (Float64Array | undefined)[] = new Array(KLINE_COLUMNS.length).fill(undefined);
  readonly #block: Float64Array;
  readonly #capacity: number;
  /** Where the block holds the bar count: after the columns. */
  readonly #countAt: number;

  /** `block`: the book's `KLINE_COLUMNS × capacity` values, then the bar count. */
  constructor(block: Float64Array, capacity: number) {
    this.#block = block;
    this.#capacity = capacity;
    this.#countAt = KLINE_COLUMNS.length * capacity;
  }

  /** Bars held now (read from the block: no native call). */
  get length(): number {
    const count = this.#block[this.#countAt] ?? Number.NaN;
    return Number.isNaN(count) ? 0 : count;
  }

  /** The whole column (capacity rows; rows past `length` are NaN); the same array on every call. */
  column(name: KlineColumn): Float64Array {
    const index = COLUMN_INDEX.get(name);
    // A caller outside TypeScript can name anything: say so, rather than hand back an empty array.
    if (index === undefined) throw new RangeError(`no kline column named ${String(name)}`);
    let column = this.#columns[index];
    if (column === undefined) {
      const capacity = this.#capacity;
      column = this.#block.subarray(index * capacity, (index + 1) * capacity);
      this.#columns[index] = column;
    }
    return column;
  }

  /** The held rows of a column, oldest first (a subarray: still no copy). */
  values(name: KlineColumn): Float64Array {
    return this.column(name).subarray(0, this.length);
  }
}

/**
 * The trader's local book: applies hub Delta and Snapshot frames (wire 1 or 2) in sequence per
 * stream. A gap, or a compact row relative to a version the book does not hold (`baseMismatch`),
 * makes the stream stale (`needsSnapshot` in the outcome) until a snapshot arrives.
 */
export class TraderBook {
  readonly #native: InstanceType<typeof binding.TraderBook>;
  readonly #views = new Map<string, KlineSeriesView | Float64Array>();
  /**
   * Views found missing, with the book's entity count then: the book never removes an entity,
   * so while the count is the same the view is still missing and the native call is skipped
   * (a strategy asks for a mark every symbol lacks on every frame).
   */
  readonly #missing = new Map<string, number>();
  /** [changes, snapshot, entities] of the last apply, live. */
  readonly #liveCounts: Uint32Array;

  /** Counts of the last `applyMany` (applied, snapshots, chunks, duplicates, ignored stale, issues): a live view. */
  readonly #counts: Uint32Array;
  /** This book's handle for the raw one-frame apply (`hotCalls.traderApplyOne`). */
  readonly #hot: number;
  /** What the last apply wrote, over native memory every apply rewrites. */
  readonly changes: BookChanges;

  constructor(window?: number) {
    this.#native = callNative(() => new binding.TraderBook(window));
    this.#counts = this.#native.applyCounts();
    this.#hot = this.#native.hotHandle();
    const native = this.#native;
    this.#liveCounts = native.changeCounts();
    this.changes = new BookChanges({
      area: native.changeArea(),
      counts: this.#liveCounts,
      loadAll: () => native.changes(),
      loadAssets: () => native.changedAssets(),
    });
  }

  get window(): number {
    return this.#native.window;
  }

  /** Applies one frame; an undecodable frame throws a `NativeError` with its reason. */
  apply(frame: Uint8Array): ApplyOutcomeObject {
    this.changes.reset();
    return callNative(() => this.#native.apply(frame));
  }

  /**
   * Applies frames in order in one native call: counts for the normal outcomes, what each frame
   * was (`frames`: kind, stream, seq, result), and `issues` for the frames that need attention.
   * A chunked snapshot counts in `snapshots` once its last chunk applied it.
   */
  applyMany(frames: Buffer[]): ApplyManyResult {
    // The native call writes its counts to `#counts` and returns how many frames need attention:
    // a native result object would cost more than applying a one-row frame (docs/benchmarks-journal.md).
    // One frame (a turn of one stream, the usual case) goes without the array, whose conversion
    // costs about as much as applying a one-row frame, and through the raw Node-API call, without
    // napi-rs's per-call bookkeeping (about as much again).
    this.changes.reset();
    const issues = callNative(() =>
      frames.length === 1
        ? hotCalls.traderApplyOne(this.#hot, frames[0] as Buffer)
        : this.#native.applyMany(frames),
    );
    const counts = this.#counts;
    return {
      applied: counts[0] ?? 0,
      snapshots: counts[1] ?? 0,
      chunks: counts[2] ?? 0,
      duplicates: counts[3] ?? 0,
      ignoredStale: counts[4] ?? 0,
      issues: issues === 0 ? [] : this.#native.takeIssues(),
      frames: new FrameReports(this.#frameReports),
      changes: this.changes,
    };
  }

  /** Loads the per-frame reports of the last `applyMany`. */
  readonly #frameReports = (): Float64Array => this.#native.frameReports();

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
    if (this.#stillMissing(key)) return undefined;
    const block = callNative(() => this.#native.klineColumns(symbolId, interval));
    if (block === null) return this.#markMissing(key);
    const view = new KlineSeriesView(block, this.window);
    this.#views.set(key, view);
    return view;
  }

  /** Exact bars of a series, oldest first. */
  klines(symbolId: number, interval: IntervalName): Kline[] {
    return callNative(() => this.#native.klines(symbolId, interval));
  }

  /** Live tick values, slots in {@link TICK_SLOTS} order (`last` and `updateId` NaN when the source had none). */
  tickValues(symbolId: number): Float64Array | undefined {
    return this.#cachedArray(`t:${symbolId}`, () => this.#native.tickValues(symbolId));
  }

  tick(symbolId: number): Tick | null {
    return this.#native.tick(symbolId);
  }

  /**
   * Live mark values, slots in {@link MARK_SLOTS} order: mark, index and estimated settle price,
   * funding rate, next funding time, exchange time. Updated in place by every mark delta.
   */
  markValues(symbolId: number): Float64Array | undefined {
    return this.#cachedArray(`m:${symbolId}`, () => this.#native.markValues(symbolId));
  }

  /** The exact mark record (decimal strings) of a symbol. */
  mark(symbolId: number): Mark | null {
    return this.#native.mark(symbolId);
  }

  /** Live position values, slots in {@link POSITION_SLOTS} order (NaN where unknown). */
  positionValues(symbolId: number, side: PositionSide): Float64Array | undefined {
    return this.#cachedArray(`p:${symbolId}:${side}`, () => this.#native.positionValues(symbolId, side));
  }

  position(symbolId: number, side: PositionSide): Position | null {
    return callNative(() => this.#native.position(symbolId, side));
  }

  /** Live balance values, slots in {@link BALANCE_SLOTS} order (NaN where unknown). */
  balanceValues(asset: string): Float64Array | undefined {
    return this.#cachedArray(`b:${asset}`, () => this.#native.balanceValues(asset));
  }

  balance(asset: string): Balance | null {
    return callNative(() => this.#native.balance(asset));
  }

  /** Every position the book holds (zero amounts included) with its symbol id, by symbol id then side. */
  positions(): Array<{ symbolId: number; position: Position }> {
    return callNative(() => this.#native.positions()).sort(
      (a, b) => a.symbolId - b.symbolId || a.position.side.localeCompare(b.position.side),
    );
  }

  /** Every balance the book holds, by asset. */
  balances(): Balance[] {
    return callNative(() => this.#native.balances()).sort((a, b) => a.asset.localeCompare(b.asset));
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
    if (this.#stillMissing(key)) return undefined;
    const array = callNative(load);
    if (array === null) return this.#markMissing(key);
    this.#views.set(key, array);
    return array;
  }

  /** True when `key` was found missing and no apply has created an entity since. */
  #stillMissing(key: string): boolean {
    return this.#missing.get(key) === this.#liveCounts[2];
  }

  #markMissing(key: string): undefined {
    this.#missing.set(key, this.#liveCounts[2] ?? 0);
    return undefined;
  }
}
