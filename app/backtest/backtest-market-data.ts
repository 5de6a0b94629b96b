// Market data of a backtest: replayed series, and prices from the driven simulator market.
import type { BarSeries, MarketData, Quote } from '../../trader/engine/market-data.js';
import type { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { DrivenMarket } from '../venues/driven-market.js';
import { ReplaySeries } from './replay-series.js';

/** {@link MarketData} over the backtest's series and its `DrivenMarket` (the engine matches against the same book). */
export class BacktestMarketData implements MarketData {
  readonly #symbols: readonly string[];
  readonly #series = new Map<string, ReplaySeries>();
  readonly #market: DrivenMarket;
  readonly #capacity: number;

  constructor(symbols: readonly string[], market: DrivenMarket, capacity: number) {
    this.#symbols = symbols;
    this.#market = market;
    this.#capacity = capacity;
  }

  symbols(): readonly string[] {
    return this.#symbols;
  }

  /** The series of `(symbol, interval)`, created on first use. */
  seriesFor(symbol: string, interval: IntervalName): ReplaySeries {
    const key = `${symbol}|${interval}`;
    let s = this.#series.get(key);
    if (s === undefined) {
      s = new ReplaySeries(this.#capacity);
      this.#series.set(key, s);
    }
    return s;
  }

  series(symbol: string, interval: IntervalName): BarSeries | undefined {
    return this.#series.get(`${symbol}|${interval}`);
  }

  lastPrice(symbol: string): number {
    const p = this.lastPriceExact(symbol);
    return p === undefined ? Number.NaN : p.toNumber();
  }

  lastPriceExact(symbol: string): Decimal | undefined {
    return this.#market.lastTraded(symbol);
  }

  quote(symbol: string): Quote | undefined {
    const book = this.#market.book(symbol, 1);
    const bid = book.bids[0];
    const ask = book.asks[0];
    return bid === undefined || ask === undefined ? undefined : { bid: bid.price, ask: ask.price };
  }
}
