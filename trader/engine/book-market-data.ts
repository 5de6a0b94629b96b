// Market data and account from the trader's native book (live, testnet, paper, dry-run): copy-free columns, no parsing.
import { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import { MARK_SLOTS, TICK_SLOTS, type TraderBook } from '../../ts/native/trader-book.js';
import type { BarEvent } from './events.js';
import type { AccountView, BarSeries, MarketData, PositionState, Quote } from './market-data.js';

/** How the book names symbols (the hub's ids). */
export interface SymbolDirectory {
  symbolId(name: string): number | undefined;
  symbols(): readonly string[];
}

const FLAT: PositionState = { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: 0 };
const LAST = 4;

/** {@link MarketData} over a `TraderBook`: series are the book's live `KlineSeriesView`s. */
export class BookMarketData implements MarketData {
  readonly #book: TraderBook;
  readonly #dir: SymbolDirectory;

  constructor(book: TraderBook, directory: SymbolDirectory) {
    this.#book = book;
    this.#dir = directory;
  }

  symbols(): readonly string[] {
    return this.#dir.symbols();
  }

  series(symbol: string, interval: IntervalName): BarSeries | undefined {
    const id = this.#dir.symbolId(symbol);
    return id === undefined ? undefined : this.#book.klineSeries(id, interval);
  }

  lastPrice(symbol: string): number {
    const id = this.#dir.symbolId(symbol);
    if (id === undefined) return Number.NaN;
    const last = this.#book.tickValues(id)?.[LAST];
    if (last !== undefined && Number.isFinite(last)) return last;
    const close = this.#book.klineSeries(id, '1m')?.values('close');
    return close !== undefined && close.length > 0 ? (close[close.length - 1] as number) : Number.NaN;
  }

  lastPriceExact(symbol: string): Decimal | undefined {
    const id = this.#dir.symbolId(symbol);
    if (id === undefined) return undefined;
    const tick = this.#book.tick(id);
    if (tick?.last !== undefined && tick.last !== null) return Decimal.parse(tick.last);
    const bars = this.#book.klines(id, '1m');
    const close = bars[bars.length - 1]?.close;
    return close === undefined ? undefined : Decimal.parse(close);
  }

  quote(symbol: string): Quote | undefined {
    const id = this.#dir.symbolId(symbol);
    const tick = id === undefined ? null : this.#book.tick(id);
    if (tick === null || tick.bid === undefined || tick.ask === undefined) return undefined;
    return { bid: Decimal.parse(tick.bid), ask: Decimal.parse(tick.ask) };
  }
}

/** {@link AccountView} over the book's merged positions and balance (the hub's view of the exchange account). */
export class BookAccount implements AccountView {
  readonly #book: TraderBook;
  readonly #dir: SymbolDirectory;

  constructor(book: TraderBook, directory: SymbolDirectory) {
    this.#book = book;
    this.#dir = directory;
  }

  position(symbol: string): PositionState {
    const id = this.#dir.symbolId(symbol);
    const p = id === undefined ? null : this.#book.position(id, 'BOTH');
    if (p === null) return FLAT;
    return {
      amount: Decimal.parse(p.amount),
      entryPrice: Decimal.parse(p.entryPrice ?? '0'),
      updateTime: p.updateTime,
    };
  }

  equity(): Decimal | undefined {
    const b = this.#book.balance('USDT');
    if (b === null) return undefined;
    return Decimal.parse(b.walletBalance).add(Decimal.parse(b.unrealizedPnl ?? '0'));
  }

  available(): Decimal | undefined {
    const b = this.#book.balance('USDT');
    return b?.availableBalance === undefined || b === null ? undefined : Decimal.parse(b.availableBalance);
  }

  openPositions(): string[] {
    return this.#dir.symbols().filter((s) => !this.position(s).amount.isZero());
  }

  /** The account collectors report the wallet with the positions: known once the balance is in the book. */
  positionsKnown(): boolean {
    return this.#book.balance('USDT') !== null;
  }
}

/** Where the exchange times sit in the book's tick and mark blocks. */
const TICK_TIME = TICK_SLOTS.indexOf('time');
const MARK_TIME = MARK_SLOTS.indexOf('time');

/**
 * Finds closed bars in the book's series: a bar is final when the book marks it closed (the
 * exchange's `x`, or a collector that saw every trade of it), reported on the first scan after.
 * A bar not marked closed but followed by a newer one is taken as final `graceMs` of exchange time
 * after its end (a source that never sends the final update must not stall the strategy). Exchange
 * time is the symbol's newest tick or mark time, so neither this machine's clock nor a newer bar
 * reaching the book before the last trades of the one before it can close a bar early. Each bar
 * is reported once, oldest first.
 */
export class BookBarWatcher {
  readonly #book: TraderBook;
  readonly #dir: SymbolDirectory;
  readonly #lastReported = new Map<string, number>();
  readonly #graceMs: number;

  constructor(book: TraderBook, directory: SymbolDirectory, graceMs = 2_000) {
    this.#book = book;
    this.#dir = directory;
    this.#graceMs = graceMs;
  }

  /**
   * Closed bars of `(symbol, interval)` not reported yet; the first call only marks where it
   * starts. `now` (this machine's clock) stands in for exchange time only while the book has
   * neither a tick nor a mark of the symbol.
   */
  closed(symbol: string, interval: IntervalName, now: number): BarEvent[] {
    const id = this.#dir.symbolId(symbol);
    const view = id === undefined ? undefined : this.#book.klineSeries(id, interval);
    // The bar count is asked once (a native call); the columns are read up to it. This runs for
    // each followed series after every frame that touched its symbol.
    const n = view?.length ?? 0;
    if (id === undefined || view === undefined || n === 0) return [];
    const key = `${symbol}|${interval}`;
    const opens = view.column('openTime');
    const closes = view.column('closeTime');
    const final = view.column('closed');
    const reported = this.#lastReported.get(key);
    // The first row not reported yet.
    let first = n;
    while (first > 0 && (reported === undefined || (opens[first - 1] as number) > reported)) first -= 1;
    if (first === n) return [];
    const exchangeNow = this.#exchangeTime(id, now);
    let end = first;
    while (
      end < n &&
      (final[end] === 1 || (end < n - 1 && exchangeNow > (closes[end] as number) + this.#graceMs))
    )
      end += 1;
    if (reported === undefined) {
      // Start after what the book already held: history is warm-up, not a fresh close. When no bar
      // it holds is final yet (only the open one, ahead of the REST poller's history), start just
      // before that open bar: history arriving later is older, and is not reported either.
      const start = end > first ? (opens[end - 1] as number) : (opens[first] as number) - 1;
      this.#lastReported.set(key, start);
      return [];
    }
    if (end === first) return [];
    this.#lastReported.set(key, opens[end - 1] as number);
    const out: BarEvent[] = [];
    const o = view.column('open');
    const h = view.column('high');
    const l = view.column('low');
    const c = view.column('close');
    const v = view.column('volume');
    for (let i = first; i < end; i++) {
      out.push({
        type: 'bar',
        symbol,
        interval,
        openTime: opens[i] as number,
        closeTime: closes[i] as number,
        open: o[i] as number,
        high: h[i] as number,
        low: l[i] as number,
        close: c[i] as number,
        volume: v[i] as number,
        time: now,
      });
    }
    return out;
  }

  /** The newest exchange time the book holds for the symbol (tick or mark), else `now`. */
  #exchangeTime(id: number, now: number): number {
    const tick = this.#book.tickValues(id)?.[TICK_TIME] ?? Number.NaN;
    const mark = this.#book.markValues(id)?.[MARK_TIME] ?? Number.NaN;
    // NaN (never set) compares false.
    let newest = 0;
    if (tick > newest) newest = tick;
    if (mark > newest) newest = mark;
    return newest > 0 ? newest : now;
  }
}
