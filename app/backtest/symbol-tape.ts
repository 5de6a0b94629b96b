// One symbol's recorded trades (or klines) in time order, fed to the bar builders and the driven market step by step.

import { KlineCsvAggregator } from '../../ts/native/aggregator.js';
import type { IntervalName } from '../../ts/native/interval.js';
import { LineChunkReader } from './chunk-reader.js';
import { firstRowAtOrAfter, lastRowBefore, lineEnd, parseRow, type TradeRow } from './csv-lines.js';
import { klineRowValues } from './replay-series.js';

/** Builds kline rows (dump layout, newline-separated) from aggTrades CSV bytes pushed in order. */
export interface BarBuilder {
  push(bytes: Uint8Array): string;
  finish(): string;
}

/** Makes a bar builder for one symbol and interval. */
export type BarBuilderFactory = (symbol: string, interval: IntervalName) => BarBuilder;

/** The native aggregator (`KlineCsvAggregator`): the backtest's default. */
export const nativeBarBuilder: BarBuilderFactory = (symbol, interval) => {
  const aggregator = new KlineCsvAggregator({ symbol, interval, header: false });
  return {
    push: (bytes) => aggregator.push(bytes).toString('latin1'),
    finish: () => aggregator.finish().toString('latin1'),
  };
};

/** A closed bar waiting for its step, in column order. */
export interface ReplayBar {
  readonly interval: IntervalName;
  readonly values: number[];
}

/** What the tape reads: aggTrades (bars built here) or klines of one interval (bars as given). */
export type TapeKind =
  | { readonly kind: 'aggTrades' }
  | { readonly kind: 'klines'; readonly interval: IntervalName };

/**
 * A symbol's files (one kind, in date order) read chunk by chunk. Each chunk of aggTrades goes to
 * the bar builders as raw bytes in one call when it is read; `advance(T)` consumes every row
 * before time T, and
 * only when `perTrade` asks (ticks, resting orders) does JavaScript read each row; otherwise only
 * the last row before T is read, to set the touch. Closed bars come out when their close time is
 * before T.
 */
export class SymbolTape {
  readonly symbol: string;
  readonly kind: TapeKind;
  readonly #files: string[];
  readonly #builders: Array<{ interval: IntervalName; builder: BarBuilder }>;
  readonly #pending: ReplayBar[] = [];
  #reader: LineChunkReader | undefined;
  #buf: Buffer = Buffer.alloc(0);
  /** Next row JavaScript has not consumed. */
  #pos = 0;
  /** Bytes of `#buf` already pushed to the bar builders. */
  #built = 0;
  #ended = false;
  #fileStart = false;
  #bytesDone = 0;
  rows = 0;

  constructor(
    symbol: string,
    kind: TapeKind,
    files: string[],
    intervals: readonly IntervalName[],
    factory: BarBuilderFactory,
  ) {
    this.symbol = symbol;
    this.kind = kind;
    this.#files = [...files];
    this.#builders =
      kind.kind === 'aggTrades'
        ? intervals.map((interval) => ({ interval, builder: factory(symbol, interval) }))
        : [];
  }

  /** Bytes of input consumed so far (for progress). */
  get bytesRead(): number {
    return this.#bytesDone + (this.#reader?.bytesRead ?? 0);
  }

  get ended(): boolean {
    return this.#ended && this.#pos >= this.#buf.length;
  }

  /** Time of the next unconsumed row, or Infinity at the end. */
  nextTime(): number {
    while (this.#pos >= this.#buf.length) if (!this.#refill()) return Number.POSITIVE_INFINITY;
    const end = lineEnd(this.#buf, this.#pos, this.#buf.length);
    const row = this.kind.kind === 'aggTrades' ? parseRow(this.#buf, this.#pos, end) : undefined;
    if (this.kind.kind === 'klines') {
      const v = klineRowValues(this.#buf.toString('latin1', this.#pos, end));
      if (v === undefined) {
        this.#pos = end + 1;
        return this.nextTime();
      }
      return v[0] as number;
    }
    if (row === undefined) {
      this.#pos = end + 1;
      return this.nextTime();
    }
    return row.time;
  }

  /**
   * Consumes rows before `time`; only the last one (the touch at `time`) is read, by `onLast`.
   * Returns the bars closing before `time`.
   */
  advance(time: number, onLast: (row: TradeRow) => void): ReplayBar[] {
    if (this.kind.kind === 'klines') return this.#advanceKlines(time, onLast);
    for (;;) {
      if (this.#pos >= this.#buf.length && !this.#refill()) break;
      const cut = firstRowAtOrAfter(this.#buf, this.#pos, this.#buf.length, time);
      if (cut > this.#pos) {
        const last = lastRowBefore(this.#buf, this.#pos, cut);
        if (last !== undefined) onLast(last);
      }
      this.#pos = cut;
      if (cut < this.#buf.length) break;
    }
    return this.#due(time);
  }

  /**
   * Consumes rows before `time`, each handed to `onTrade` in order (awaited when it returns a
   * promise: an order it caused is executed before the next trade). Returns the bars closing before `time`.
   */
  async advanceEach(time: number, onTrade: (row: TradeRow) => void | Promise<void>): Promise<ReplayBar[]> {
    if (this.kind.kind === 'klines') return this.#advanceKlines(time, (row) => void onTrade(row));
    for (;;) {
      if (this.#pos >= this.#buf.length && !this.#refill()) break;
      const buf = this.#buf;
      const cut = firstRowAtOrAfter(buf, this.#pos, buf.length, time);
      while (this.#pos < cut) {
        const end = lineEnd(buf, this.#pos, cut);
        const row = parseRow(buf, this.#pos, end);
        this.#pos = end + 1;
        if (row === undefined) continue;
        this.rows += 1;
        const pending = onTrade(row);
        if (pending !== undefined) await pending;
      }
      this.#pos = cut;
      if (cut < buf.length) break;
    }
    return this.#due(time);
  }

  #advanceKlines(time: number, onLast: (row: TradeRow) => void): ReplayBar[] {
    const interval = (this.kind as { interval: IntervalName }).interval;
    for (;;) {
      if (this.#pos >= this.#buf.length && !this.#refill()) break;
      const end = lineEnd(this.#buf, this.#pos, this.#buf.length);
      const line = this.#buf.toString('latin1', this.#pos, end);
      const v = klineRowValues(line);
      if (v !== undefined && (v[1] as number) >= time) break;
      this.#pos = end + 1;
      if (v === undefined) continue;
      this.rows += 1;
      this.#pending.push({ interval, values: v });
      onLast({ price: line.split(',')[4] ?? String(v[5]), qty: '0', time: v[1] as number, takerSold: false });
    }
    return this.#due(time);
  }

  #build(upTo: number): void {
    if (upTo <= this.#built) return;
    const bytes = this.#buf.subarray(this.#built, upTo);
    this.#built = upTo;
    for (const { interval, builder } of this.#builders) this.#collect(interval, builder.push(bytes));
  }

  #collect(interval: IntervalName, rows: string): void {
    if (rows.length === 0) return;
    for (const line of rows.split('\n')) {
      const values = line.length === 0 ? undefined : klineRowValues(line);
      if (values !== undefined) this.#pending.push({ interval, values });
    }
  }

  #due(time: number): ReplayBar[] {
    if (this.#pending.length === 0) return [];
    const out: ReplayBar[] = [];
    let keep = 0;
    for (const bar of this.#pending) {
      if ((bar.values[1] as number) < time) out.push(bar);
      else this.#pending[keep++] = bar;
    }
    this.#pending.length = keep;
    return out;
  }

  #refill(): boolean {
    for (;;) {
      if (this.#reader === undefined) {
        const next = this.#files.shift();
        if (next === undefined) {
          if (!this.#ended) {
            this.#ended = true;
            // The last bar of the data is complete once the data ends.
            for (const { interval, builder } of this.#builders) this.#collect(interval, builder.finish());
          }
          return false;
        }
        this.#reader = new LineChunkReader(next);
        this.#fileStart = true;
      }
      const chunk = this.#reader.next();
      if (chunk === null) {
        this.#bytesDone += this.#reader.bytesRead;
        this.#reader = undefined;
        continue;
      }
      this.#buf = chunk;
      this.#pos = 0;
      this.#built = 0;
      const first = chunk[0];
      if (this.#fileStart && first !== undefined && (first < 48 || first > 57)) {
        // A file's header row: neither JavaScript nor the builders read it (a second day's header
        // would be a bad row in the middle of the builders' stream).
        this.#pos = lineEnd(chunk, 0, chunk.length) + 1;
        this.#built = this.#pos;
      }
      this.#fileStart = false;
      // The builders take the whole chunk at once (one native call per MiB, not per step); the
      // bars it closes wait in `#pending` until the replay reaches their close time.
      this.#build(this.#buf.length);
      return true;
    }
  }
}
