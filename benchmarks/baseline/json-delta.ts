// The JSON wire baseline: hub deltas and snapshots as JSON text, and a trader book that applies them.
import { KLINE_COLUMNS, type KlineColumn } from '../../ts/native/book-layout.js';
import type { JsIntervalName } from './interval.js';
import type {
  JsBalance,
  JsDelta,
  JsKline,
  JsPosition,
  JsPositionSide,
  JsSnapshot,
  JsTick,
} from './records.js';

/** Bars kept per series unless configured otherwise (the native trader book's default). */
export const JS_TRADER_WINDOW = 45;

/** A Delta frame as JSON: the entities that changed, each with its full new value. */
export interface JsonDeltaFrame {
  type: 'delta';
  stream: number;
  seq: number;
  sentAt: number;
  deltas: JsDelta[];
}

/** A Snapshot frame as JSON: the full state of the stream as of `seq`. */
export interface JsonSnapshotFrame extends JsSnapshot {
  type: 'snapshot';
  stream: number;
  seq: number;
  sentAt: number;
}

/** Hub side: every pending delta as one JSON Delta frame of `stream` numbered `seq`. */
export function encodeJsonDelta(stream: number, seq: number, deltas: readonly JsDelta[], sentAt = 0): string {
  return JSON.stringify({ type: 'delta', stream, seq, sentAt, deltas });
}

/** Hub side: a JSON Snapshot frame of `snapshot` (from `JsMergeBook.snapshot()`). */
export function encodeJsonSnapshot(stream: number, seq: number, snapshot: JsSnapshot, sentAt = 0): string {
  const frame: JsonSnapshotFrame = { type: 'snapshot', stream, seq, sentAt, ...snapshot };
  return JSON.stringify(frame);
}

/** The columns of a kline series, in the native trader book's order (its layout, generated from Rust). */
export const JS_KLINE_COLUMNS = KLINE_COLUMNS;

/** A column of a kline series. */
export type JsKlineColumn = KlineColumn;

/**
 * The last `capacity` bars of one `(symbol, interval)` as one Float64Array per column, rows
 * `[0, length)` oldest first (the rest NaN), updated in place as deltas apply.
 */
export class JsKlineSeries {
  readonly capacity: number;
  readonly #columns: Float64Array[];
  readonly #byName: Record<JsKlineColumn, Float64Array>;
  #length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    const byName = Object.fromEntries(
      JS_KLINE_COLUMNS.map((name) => [name, new Float64Array(capacity).fill(Number.NaN)]),
    ) as Record<JsKlineColumn, Float64Array>;
    this.#byName = byName;
    this.#columns = JS_KLINE_COLUMNS.map((name) => byName[name]);
  }

  /** Bars held now. */
  get length(): number {
    return this.#length;
  }

  /** The whole column (capacity rows; rows past `length` are NaN). */
  column(name: JsKlineColumn): Float64Array {
    return this.#byName[name];
  }

  /** The held rows of a column, oldest first (a subarray: no copy). */
  values(name: JsKlineColumn): Float64Array {
    return this.#byName[name].subarray(0, this.#length);
  }

  /**
   * Puts one bar in place by open time: replaces the bar with the same open time, appends a newer
   * one (shifting the oldest out when full) or inserts a missing one. Returns false when the bar
   * is older than every bar of a full window (dropped).
   */
  upsert(kline: JsKline): boolean {
    const length = this.#length;
    const openTimes = this.#byName.openTime;
    let row: number;
    const newest = length > 0 ? (openTimes[length - 1] ?? Number.NaN) : Number.NaN;
    if (newest === kline.openTime) {
      this.#write(length - 1, kline);
      return true;
    }
    if (length === 0 || newest < kline.openTime) row = length;
    else {
      let low = 0;
      let high = length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((openTimes[middle] ?? Number.NaN) < kline.openTime) low = middle + 1;
        else high = middle;
      }
      row = low;
      if (openTimes[row] === kline.openTime) {
        this.#write(row, kline);
        return true;
      }
    }
    if (length < this.capacity) {
      if (row < length) for (const column of this.#columns) column.copyWithin(row + 1, row, length);
      this.#write(row, kline);
      this.#length = length + 1;
      return true;
    }
    if (row === 0) return false;
    // Full: the oldest bar leaves, the rows before `row` move up one.
    for (const column of this.#columns) column.copyWithin(0, 1, row);
    this.#write(row - 1, kline);
    return true;
  }

  /** Replaces every bar (sorted by open time, the last of equal open times kept, the newest kept). */
  replace(klines: readonly JsKline[]): void {
    const sorted = klines
      .map((kline, order) => ({ kline, order }))
      .sort((a, b) => a.kline.openTime - b.kline.openTime || a.order - b.order);
    const unique: JsKline[] = [];
    for (const { kline } of sorted) {
      if (unique[unique.length - 1]?.openTime === kline.openTime) unique[unique.length - 1] = kline;
      else unique.push(kline);
    }
    const kept = unique.slice(Math.max(0, unique.length - this.capacity));
    kept.forEach((kline, row) => {
      this.#write(row, kline);
    });
    for (const column of this.#columns) column.fill(Number.NaN, kept.length);
    this.#length = kept.length;
  }

  #write(row: number, k: JsKline): void {
    const c = this.#byName;
    c.openTime[row] = k.openTime;
    c.closeTime[row] = k.closeTime;
    c.open[row] = k.open;
    c.high[row] = k.high;
    c.low[row] = k.low;
    c.close[row] = k.close;
    c.volume[row] = k.volume;
    c.quoteVolume[row] = k.quoteVolume;
    c.trades[row] = k.trades;
    c.takerBuyVolume[row] = k.takerBuyVolume;
    c.takerBuyQuoteVolume[row] = k.takerBuyQuoteVolume;
    c.closed[row] = k.closed ? 1 : 0;
  }
}

/** What applying one frame did, named as the native `ApplyOutcomeObject`. */
export interface JsApplyOutcome {
  kind: 'applied' | 'snapshot' | 'duplicate' | 'gap' | 'stale';
  stream: number;
  /** The frame's seq; a `gap` reports it as `got`. */
  seq?: number;
  /** Entity changes applied (`applied`). */
  deltas?: number;
  /** The seq the book waited for, absent when the stream had no snapshot yet (`gap`). */
  expected?: number;
  /** The seq that arrived instead (`gap`). */
  got?: number;
  /** True when the caller must ask the hub for a snapshot of `stream`. */
  needsSnapshot: boolean;
}

/** Counters of what the book did, named as the native `TraderBookStatsObject`. */
export interface JsTraderBookStats {
  framesApplied: number;
  deltasApplied: number;
  duplicates: number;
  gaps: number;
  ignoredWhileStale: number;
  snapshots: number;
  oldKlinesDropped: number;
}

/** Sequencing state of one stream. */
interface StreamState {
  /** The seq the next Delta must carry. */
  expectedSeq: number;
  /** True after a gap (or a delta before any snapshot) until a snapshot arrives. */
  stale: boolean;
}

const DELTA_KINDS: ReadonlySet<unknown> = new Set(['kline', 'tick', 'position', 'balance']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The frame's header fields, checked; the payload is trusted to be what the encoder wrote. */
function frameOf(text: string): JsonDeltaFrame | JsonSnapshotFrame {
  const frame: unknown = JSON.parse(text);
  if (
    !isRecord(frame) ||
    (frame.type !== 'delta' && frame.type !== 'snapshot') ||
    !Number.isSafeInteger(frame.stream) ||
    !Number.isSafeInteger(frame.seq)
  ) {
    throw new Error('not a JSON delta or snapshot frame');
  }
  if (frame.type === 'delta') {
    const deltas = frame.deltas;
    if (!Array.isArray(deltas) || !deltas.every((d: unknown) => isRecord(d) && DELTA_KINDS.has(d.kind))) {
      throw new Error('a JSON delta frame must carry an array of known deltas');
    }
    return frame as unknown as JsonDeltaFrame;
  }
  for (const key of ['klines', 'ticks', 'positions', 'balances']) {
    if (!Array.isArray(frame[key])) throw new Error(`a JSON snapshot frame must carry ${key}`);
  }
  return frame as unknown as JsonSnapshotFrame;
}

/**
 * The trader's local book fed by JSON frames, with the native `TraderBook`'s sequencing: per
 * stream, the first frame must be a snapshot; a delta with the expected seq applies, an older one
 * is a duplicate, a newer one a gap that makes the stream stale (nothing applies) until a
 * snapshot arrives. Klines go into per-series columns; ticks, positions and balances are kept as
 * the records the frames carry.
 */
export class JsTraderBook {
  readonly window: number;
  readonly #streams = new Map<number, StreamState>();
  readonly #series = new Map<string, Map<JsIntervalName, JsKlineSeries>>();
  readonly #ticks = new Map<string, JsTick>();
  readonly #positions = new Map<string, Map<JsPositionSide, JsPosition>>();
  readonly #balances = new Map<string, JsBalance>();
  readonly #stats: JsTraderBookStats = {
    framesApplied: 0,
    deltasApplied: 0,
    duplicates: 0,
    gaps: 0,
    ignoredWhileStale: 0,
    snapshots: 0,
    oldKlinesDropped: 0,
  };

  constructor(window: number = JS_TRADER_WINDOW) {
    this.window = Math.max(1, Math.floor(window));
  }

  /** Parses and applies one JSON frame; text that is not a frame throws. */
  applyJson(text: string): JsApplyOutcome {
    const frame = frameOf(text);
    const { stream, seq } = frame;
    const state = this.#streams.get(stream);
    if (frame.type === 'snapshot') {
      // Older than what a healthy stream already holds: applying it would roll entities back.
      if (state !== undefined && !state.stale && seq + 1 < state.expectedSeq) {
        this.#stats.duplicates += 1;
        return { kind: 'duplicate', stream, seq, needsSnapshot: false };
      }
      this.#applySnapshot(frame);
      this.#streams.set(stream, { expectedSeq: seq + 1, stale: false });
      this.#stats.snapshots += 1;
      this.#stats.framesApplied += 1;
      return { kind: 'snapshot', stream, seq, needsSnapshot: false };
    }
    if (state === undefined) {
      this.#streams.set(stream, { expectedSeq: 0, stale: true });
      this.#stats.gaps += 1;
      return { kind: 'gap', stream, got: seq, needsSnapshot: true };
    }
    if (state.stale) {
      this.#stats.ignoredWhileStale += 1;
      return { kind: 'stale', stream, seq, needsSnapshot: false };
    }
    if (seq < state.expectedSeq) {
      this.#stats.duplicates += 1;
      return { kind: 'duplicate', stream, seq, needsSnapshot: false };
    }
    if (seq > state.expectedSeq) {
      state.stale = true;
      this.#stats.gaps += 1;
      return { kind: 'gap', stream, expected: state.expectedSeq, got: seq, needsSnapshot: true };
    }
    state.expectedSeq = seq + 1;
    for (const delta of frame.deltas) this.#applyDelta(delta);
    this.#stats.deltasApplied += frame.deltas.length;
    this.#stats.framesApplied += 1;
    return { kind: 'applied', stream, seq, deltas: frame.deltas.length, needsSnapshot: false };
  }

  /** True while `stream` waits for a snapshot after a gap. */
  isStale(stream: number): boolean {
    return this.#streams.get(stream)?.stale ?? false;
  }

  /** Streams waiting for a snapshot, ascending. */
  staleStreams(): number[] {
    return [...this.#streams]
      .filter(([, state]) => state.stale)
      .map(([stream]) => stream)
      .sort((a, b) => a - b);
  }

  /** The columns of a series, or undefined until the series exists. */
  klineSeries(symbol: string, interval: JsIntervalName): JsKlineSeries | undefined {
    return this.#series.get(symbol)?.get(interval);
  }

  tick(symbol: string): JsTick | undefined {
    return this.#ticks.get(symbol);
  }

  position(symbol: string, side: JsPositionSide): JsPosition | undefined {
    return this.#positions.get(symbol)?.get(side);
  }

  balance(asset: string): JsBalance | undefined {
    return this.#balances.get(asset);
  }

  /** Counters so far (a copy). */
  stats(): JsTraderBookStats {
    return { ...this.#stats };
  }

  #applyDelta(delta: JsDelta): void {
    switch (delta.kind) {
      case 'kline':
        if (!this.#seriesOf(delta.symbol, delta.interval).upsert(delta.kline)) {
          this.#stats.oldKlinesDropped += 1;
        }
        break;
      case 'tick':
        this.#ticks.set(delta.symbol, delta.tick);
        break;
      case 'position':
        this.#putPosition(delta.symbol, delta.position);
        break;
      case 'balance':
        this.#balances.set(delta.balance.asset, delta.balance);
        break;
    }
  }

  #applySnapshot(snapshot: JsSnapshot): void {
    for (const window of snapshot.klines) {
      this.#seriesOf(window.symbol, window.interval).replace(window.klines);
    }
    for (const { symbol, tick } of snapshot.ticks) this.#ticks.set(symbol, tick);
    for (const { symbol, position } of snapshot.positions) this.#putPosition(symbol, position);
    for (const balance of snapshot.balances) this.#balances.set(balance.asset, balance);
  }

  #seriesOf(symbol: string, interval: JsIntervalName): JsKlineSeries {
    let bySymbol = this.#series.get(symbol);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      this.#series.set(symbol, bySymbol);
    }
    let series = bySymbol.get(interval);
    if (series === undefined) {
      series = new JsKlineSeries(this.window);
      bySymbol.set(interval, series);
    }
    return series;
  }

  #putPosition(symbol: string, position: JsPosition): void {
    let bySide = this.#positions.get(symbol);
    if (bySide === undefined) {
      bySide = new Map();
      this.#positions.set(symbol, bySide);
    }
    bySide.set(position.side, position);
  }
}
