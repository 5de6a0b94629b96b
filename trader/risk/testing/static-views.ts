// Market data and an account whose values a test sets by hand (for the risk rules' unit tests).
import { Decimal } from '../../../ts/exact/decimal.js';
import type { AccountView, BarSeries, MarketData, PositionState, Quote } from '../../engine/market-data.js';

/** Prices set by the test; no bars. */
export class StaticMarket implements MarketData {
  readonly prices = new Map<string, Decimal>();
  readonly quotes = new Map<string, Quote>();

  set(symbol: string, price: string, spread?: { bid: string; ask: string }): void {
    this.prices.set(symbol, Decimal.parse(price));
    if (spread !== undefined)
      this.quotes.set(symbol, { bid: Decimal.parse(spread.bid), ask: Decimal.parse(spread.ask) });
    else this.quotes.delete(symbol);
  }

  symbols(): readonly string[] {
    return [...this.prices.keys()];
  }

  series(): BarSeries | undefined {
    return undefined;
  }

  lastPrice(symbol: string): number {
    return this.prices.get(symbol)?.toNumber() ?? Number.NaN;
  }

  lastPriceExact(symbol: string): Decimal | undefined {
    return this.prices.get(symbol);
  }

  quote(symbol: string): Quote | undefined {
    return this.quotes.get(symbol);
  }
}

/** Positions and equity set by the test. */
export class StaticAccount implements AccountView {
  readonly positions = new Map<string, PositionState>();
  equityValue: Decimal | undefined = Decimal.parse('10000');

  set(symbol: string, amount: string, entry: string, updateTime = 1): void {
    this.positions.set(symbol, {
      amount: Decimal.parse(amount),
      entryPrice: Decimal.parse(entry),
      updateTime,
    });
  }

  position(symbol: string): PositionState {
    return this.positions.get(symbol) ?? { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: 0 };
  }

  equity(): Decimal | undefined {
    return this.equityValue;
  }

  available(): Decimal | undefined {
    return this.equityValue;
  }

  openPositions(): string[] {
    return [...this.positions.entries()].filter(([, p]) => !p.amount.isZero()).map(([s]) => s);
  }

  /** Set by the test, so known. */
  positionsKnown(): boolean {
    return true;
  }
}
