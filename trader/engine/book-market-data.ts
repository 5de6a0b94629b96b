// Market data and account from the trader's native book (live, testnet, paper, dry-run): copy-free columns, no parsing.
import { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { TraderBook } from '../../ts/native/trader-book.js';
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
}

/**
 * Finds closed bars in the book's series: a bar is closed once a newer bar follows it in the
 * series, or once its close time is `graceMs` past and the book marks it closed (a quiet market).
 * Each bar is reported once, oldest first.
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

  /** Closed bars of `(symbol, interval)` not reported yet; the first call only marks where it starts. */
  closed(symbol: string, interval: IntervalName, now: number): BarEvent[] {
    const id = this.#dir.symbolId(symbol);
    const view = id === undefined ? undefined : this.#book.klineSeries(id, interval);
    if (id === undefined || view === undefined || view.length === 0) return [];
    const key = `${symbol}|${interval}`;
    const opens = view.values('openTime');
    const closes = view.values('closeTime');
    const n = opens.length;
    const lastOpen = opens[n - 1] as number;
    let closedUpTo = n >= 2 ? (opens[n - 2] as number) : Number.NEGATIVE_INFINITY;
    if (now > (closes[n - 1] as number) + this.#graceMs) {
      const last = this.#book.klines(id, interval).at(-1);
      if (last?.closed === true && last.openTime === lastOpen) closedUpTo = lastOpen;
    }
    const reported = this.#lastReported.get(key);
    if (reported === undefined) {
      // Start after what the book already held: history is warm-up, not a fresh close.
      this.#lastReported.set(key, closedUpTo);
      return [];
    }
    if (closedUpTo <= reported) return [];
    if (
      n >= 2 &&
      closedUpTo === (opens[n - 2] as number) &&
      now <= (closes[n - 2] as number) + this.#graceMs
    ) {
      // A newer bar can reach the book before the final update of the one before it (two
      // sources, or a stream's throttled updates): that bar is closed once the book says so, or
      // after the grace; never reported with a partial close.
      const previous = this.#book.klines(id, interval).at(-2);
      if (previous !== undefined && previous.openTime === closedUpTo && previous.closed !== true) {
        closedUpTo = n >= 3 ? (opens[n - 3] as number) : Number.NEGATIVE_INFINITY;
        if (closedUpTo <= reported) return [];
      }
    }
    const out: BarEvent[] = [];
    const o = view.values('open');
    const h = view.values('high');
    const l = view.values('low');
    const c = view.values('close');
    const v = view.values('volume');
    for (let i = 0; i < n; i++) {
      const openTime = opens[i] as number;
      if (openTime <= reported || openTime > closedUpTo) continue;
      out.push({
        type: 'bar',
        symbol,
        interval,
        openTime,
        closeTime: closes[i] as number,
        open: o[i] as number,
        high: h[i] as number,
        low: l[i] as number,
        close: c[i] as number,
        volume: v[i] as number,
        time: now,
      });
    }
    this.#lastReported.set(key, closedUpTo);
    return out;
  }
}
