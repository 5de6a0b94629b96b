// What a strategy reads: bar columns, last prices, the account; one interface over every mode's data source.
import type { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { KlineColumn } from '../../ts/native/trader-book.js';

/**
 * Columns of one `(symbol, interval)` series, rows oldest first; the last row may be the bar still
 * open. Live and paper hand out the native book's copy-free views (`KlineSeriesView`), a backtest
 * its replay's columns: a strategy cannot tell them apart and never parses.
 */
export interface BarSeries {
  readonly length: number;
  /** The held rows of a column (a view: read it now, do not keep it across events). */
  values(column: KlineColumn): Float64Array;
}

/** Market data as strategies see it. */
export interface MarketData {
  /** Symbols the data source knows, in a stable order. */
  symbols(): readonly string[];
  series(symbol: string, interval: IntervalName): BarSeries | undefined;
  /** Last traded price as a double (NaN when unknown): for signals, never for order prices. */
  lastPrice(symbol: string): number;
  /** Last traded price, exact, or undefined when unknown: what order sizes are computed from. */
  lastPriceExact(symbol: string): Decimal | undefined;
  /** Best bid and ask, exact, or undefined when unknown (post-only orders price from it). */
  quote(symbol: string): Quote | undefined;
}

/** The top of the book. */
export interface Quote {
  readonly bid: Decimal;
  readonly ask: Decimal;
}

/** A position as the engine knows it (one-way mode: the BOTH side). */
export interface PositionState {
  /** Signed base quantity. */
  readonly amount: Decimal;
  readonly entryPrice: Decimal;
  /** Exchange time of the newest information in it (0 when never reported). */
  readonly updateTime: number;
}

/** The account as the engine knows it. */
export interface AccountView {
  position(symbol: string): PositionState;
  /** USDT wallet balance plus unrealized PnL, or undefined before any account data. */
  equity(): Decimal | undefined;
  /** USDT available for new positions, or undefined before any account data. */
  available(): Decimal | undefined;
  /** Symbols with a non-zero position. */
  openPositions(): string[];
  /**
   * True once the positions are known: reported by the exchange (through the hub), or kept by the
   * trader itself from the start (paper). Until then a flat position may only mean "not heard yet".
   */
  positionsKnown(): boolean;
}
