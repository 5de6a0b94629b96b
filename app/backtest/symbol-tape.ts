// One symbol's recorded trades (or klines) in time order, fed to the bar builders and the driven market step by step.

import { basename } from 'node:path';
import { KlineCsvAggregator } from '../../ts/native/aggregator.js';
import type { IntervalName } from '../../ts/native/interval.js';
import { LineChunkReader } from './chunk-reader.js';
import {
  firstRowAtOrAfter,
  isMicros,
  lastRowBefore,
  lineEnd,
  lineStart,
  parseRow,
  type TradeRow,
} from './csv-lines.js';
import type { KlinePrices } from './kline-fills.js';
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

/** A data file that cannot be read on (bad row the bar builders refuse, broken zip): names the file. */
export class BacktestDataError extends Error {
  override readonly name = 'BacktestDataError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${basename(file)}: ${reason}`);
  }
}

/** An aggTrades row's last field: `is_buyer_maker` (futures) or `is_best_match` (spot). */
const LAST_FIELD = /,(true|false)\r?$/i;

/** A closed bar waiting for its step, in column order. */
export interface ReplayBar {
  readonly interval: IntervalName;
  readonly values: number[];
  /** A kline row's prices as written (klines mode: the bar fill model works on them exactly). */
  readonly prices?: KlinePrices;
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
  readonly #factory: BarBuilderFactory;
  #reader: LineChunkReader | undefined;
  #file = '';
  /** Whether the builders' trades are in µs (spot dumps since 2025), once a file said so. */
  #micros: boolean | undefined;
  #buf: Buffer = Buffer.alloc(0);
  /** Next row JavaScript has not consumed. */
  #pos = 0;
  /** Bytes of `#buf` already pushed to the bar builders. */
  #built = 0;
  #ended = false;
  #fileStart = false;
  #bytesDone = 0;
  /** Open time of the last kline replayed: a row not after it is a repeat or out of order. */
  #lastOpen = Number.NEGATIVE_INFINITY;
  rows = 0;
  /** Rows dropped (a file's cut last line; klines malformed, repeated or out of order), and the first, for the log. */
  rejected = 0;
  firstRejection: string | undefined;

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
    this.#factory = factory;
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
    // A loop, not recursion: a file of many bad rows must not overflow the stack.
    for (;;) {
      while (this.#pos >= this.#buf.length) if (!this.#refill()) return Number.POSITIVE_INFINITY;
      const end = lineEnd(this.#buf, this.#pos, this.#buf.length);
      if (this.kind.kind === 'klines') {
        const line = this.#buf.toString('latin1', this.#pos, end);
        const v = klineRowValues(line);
        if (v !== undefined) return v[0] as number;
        if (line.length > 0) this.#reject(line, 'malformed');
      } else {
        // The bar builders have refused a malformed trade row already; an empty line is left here.
        const row = parseRow(this.#buf, this.#pos, end);
        if (row !== undefined) return row.time;
      }
      this.#pos = end + 1;
    }
  }

  /**
   * The first row's price (a kline's close), not consumed; undefined without rows. Contract rules
   * are derived from it: a kline is only consumed once closed, so `advance` would not reach it.
   */
  firstPrice(): string | undefined {
    if (!Number.isFinite(this.nextTime())) return undefined;
    const line = this.#buf.toString('latin1', this.#pos, lineEnd(this.#buf, this.#pos, this.#buf.length));
    return line.split(',')[this.kind.kind === 'klines' ? 4 : 1]?.trim();
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
      if (v === undefined || (v[0] as number) <= this.#lastOpen) {
        // Replaying it would hand the strategy an old bar as new and move the touch back in time.
        if (line.length > 0) this.#reject(line, v === undefined ? 'malformed' : 'not after the previous row');
        continue;
      }
      this.#lastOpen = v[0] as number;
      this.rows += 1;
      const f = line.split(',');
      const text = (i: number) => f[i]?.trim() ?? String(v[i + 1]);
      this.#pending.push({
        interval,
        values: v,
        prices: { open: text(1), high: text(2), low: text(3), close: text(4) },
      });
      onLast({ price: text(4), qty: '0', time: v[1] as number, takerSold: false });
    }
    return this.#due(time);
  }

  #reject(line: string, why: string): void {
    this.rejected += 1;
    this.firstRejection ??= `${why}: ${line.slice(0, 120)}`;
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
    try {
      return this.#refillOrThrow();
    } catch (error) {
      if (error instanceof BacktestDataError) throw error;
      throw new BacktestDataError(this.#file, error instanceof Error ? error.message : String(error));
    }
  }

  /** Without `chunk`'s last line when the file ended inside it and it is cut short (counted). */
  #withoutCutLine(chunk: Buffer): Buffer {
    const start = lineStart(chunk, chunk.length - 1);
    const line = chunk.toString('latin1', start, chunk.length - 1);
    const first = chunk[start];
    // A file that is only its header row: the header logic skips it, nothing was cut.
    if (this.#fileStart && start === 0 && first !== undefined && (first < 48 || first > 57)) return chunk;
    const whole =
      this.kind.kind === 'aggTrades'
        ? parseRow(chunk, start, chunk.length - 1) !== undefined && LAST_FIELD.test(line)
        : line.split(',').length >= 12 && klineRowValues(line) !== undefined;
    if (whole) return chunk;
    this.#reject(line, `${basename(this.#file)}: last line cut short`);
    return chunk.subarray(0, start);
  }

  /**
   * Spot dumps switched from ms to µs on 2025-01-01, and a builder refuses a unit change mid-stream:
   * at a file in the other unit the builders finish (the day boundary closes every bar up to 1d)
   * and new ones start.
   */
  #checkTimeUnit(chunk: Buffer): void {
    if (this.kind.kind !== 'aggTrades' || this.#pos >= chunk.length) return;
    const time = chunk.toString('latin1', this.#pos, lineEnd(chunk, this.#pos, chunk.length)).split(',')[5];
    if (time === undefined) return;
    const micros = isMicros(Number(time));
    if (this.#micros !== undefined && this.#micros !== micros)
      for (const entry of this.#builders) {
        this.#collect(entry.interval, entry.builder.finish());
        entry.builder = this.#factory(this.symbol, entry.interval);
      }
    this.#micros = micros;
  }

  #refillOrThrow(): boolean {
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
        this.#file = next;
        this.#reader = new LineChunkReader(next);
        this.#fileStart = true;
      }
      let chunk = this.#reader.next();
      if (chunk === null) {
        this.#bytesDone += this.#reader.bytesRead;
        this.#reader = undefined;
        continue;
      }
      // A download cut mid-row: the builders would refuse the whole run over its last line.
      if (this.#reader.unterminated) chunk = this.#withoutCutLine(chunk);
      if (chunk.length === 0) continue;
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
      if (this.#fileStart) this.#checkTimeUnit(chunk);
      this.#fileStart = false;
      // The builders take the whole chunk at once (one native call per MiB, not per step); the
      // bars it closes wait in `#pending` until the replay reaches their close time.
      this.#build(this.#buf.length);
      return true;
    }
  }
}
