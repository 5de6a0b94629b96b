// A simulator market driven from outside: the trader's hub data (paper) or a data file (backtest) sets its prices.
import type { BookLevel, MarketTrade, MarketView, SymbolSpec } from '../../sim/contracts.js';
import { INTEREST_RATE } from '../../sim/market/funding.js';
import { SyntheticBook } from '../../sim/market/synthetic-book.js';
import { Decimal } from '../../ts/exact/decimal.js';

/** Levels the book keeps for a sweep (the engine asks for 100). */
const MAX_LEVELS = 1000;

interface SymbolState {
  readonly spec: SymbolSpec;
  readonly book: SyntheticBook;
  /** The newest touch source not applied to the book yet (applied when someone reads the book). */
  pendingTrade: { price: string; takerSold: boolean; time: number } | undefined;
  pendingQuote: { bid: string; ask: string; time: number } | undefined;
  last: Decimal | undefined;
  lastText: string | undefined;
  fundingRate: Decimal;
}

/** A symbol the market does not list. */
export class DrivenMarketError extends Error {
  override readonly name = 'DrivenMarketError';
}

/** FNV-1a of a symbol name: the book's salt (level sizes), stable across runs. */
function salt(symbol: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < symbol.length; i++) {
    h ^= symbol.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The simulator's `MarketView` with its prices set by a driver instead of a random walk: the
 * simulator's own synthetic book (`SyntheticBook`: the touch set from the last trade exactly as a
 * replay sets it, or from a quote; sizes growing away from it), the last trade price as last and
 * mark price, and a funding rate the driver sets (Binance's 0.01 % interest rate until then).
 * Touches are applied lazily, when the engine reads the book, so feeding a trade costs only a
 * string; public trades reach the engine only when the driver publishes them (where orders rest).
 */
export class DrivenMarket implements MarketView {
  readonly #specs: readonly SymbolSpec[];
  readonly #state = new Map<string, SymbolState>();
  readonly #listeners = new Set<(trade: MarketTrade) => void>();
  takerFills = 0;

  constructor(specs: readonly SymbolSpec[], now: number) {
    this.#specs = specs;
    specs.forEach((spec, index) => {
      this.#state.set(spec.symbol, {
        spec,
        book: new SyntheticBook(spec, salt(spec.symbol), now, (index + 1) * 1_000_000),
        pendingTrade: undefined,
        pendingQuote: undefined,
        last: undefined,
        lastText: undefined,
        fundingRate: INTEREST_RATE,
      });
    });
  }

  // ---- driving --------------------------------------------------------------------------

  /** A public trade happened: the touch follows it (a taker sell hit the bid, a taker buy lifted the ask). */
  setLastTrade(symbol: string, price: string, takerSold: boolean, time: number): void {
    const s = this.#symbol(symbol);
    s.pendingTrade = { price, takerSold, time };
    s.pendingQuote = undefined;
    if (s.lastText !== price) {
      s.lastText = price;
      s.last = undefined;
    }
  }

  /** The best bid and ask are known (a book ticker): the touch is set to them. */
  setQuote(symbol: string, bid: string, ask: string, time: number): void {
    const s = this.#symbol(symbol);
    s.pendingQuote = { bid, ask, time };
    s.pendingTrade = undefined;
  }

  /** The last traded price without moving the touch (a kline close when no quote is known). */
  setLastPrice(symbol: string, price: string): void {
    const s = this.#symbol(symbol);
    if (s.lastText !== price) {
      s.lastText = price;
      s.last = undefined;
    }
  }

  /** Hands a public trade to the engine (resting orders fill from it, conditional orders trigger). */
  publishTrade(symbol: string, price: string, qty: string, takerSold: boolean, time: number): void {
    this.setLastTrade(symbol, price, takerSold, time);
    if (this.#listeners.size === 0) return;
    const trade: MarketTrade = {
      symbol,
      price: Decimal.parse(price),
      qty: Decimal.parse(qty),
      time,
      buyerIsMaker: takerSold,
    };
    for (const listener of this.#listeners) listener(trade);
  }

  setFundingRate(symbol: string, rate: Decimal): void {
    this.#symbol(symbol).fundingRate = rate;
  }

  // ---- MarketView -----------------------------------------------------------------------

  specs(): readonly SymbolSpec[] {
    return this.#specs;
  }

  spec(symbol: string): SymbolSpec | undefined {
    return this.#state.get(symbol)?.spec;
  }

  book(
    symbol: string,
    levels: number,
  ): { readonly bids: readonly BookLevel[]; readonly asks: readonly BookLevel[] } {
    return this.#touched(symbol).book.levels(Math.max(0, Math.min(levels, MAX_LEVELS)));
  }

  lastPrice(symbol: string): Decimal {
    const s = this.#symbol(symbol);
    if (s.last === undefined && s.lastText !== undefined) s.last = Decimal.parse(s.lastText);
    if (s.last !== undefined) return s.last;
    return this.#touched(symbol).book.mid();
  }

  /** The last traded price the driver set, or undefined before any. */
  lastTraded(symbol: string): Decimal | undefined {
    const s = this.#state.get(symbol);
    if (s === undefined || s.lastText === undefined) return undefined;
    s.last ??= Decimal.parse(s.lastText);
    return s.last;
  }

  markPrice(symbol: string): Decimal {
    return this.lastPrice(symbol);
  }

  fundingRate(symbol: string): Decimal {
    return this.#symbol(symbol).fundingRate;
  }

  onTrade(listener: (trade: MarketTrade) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  recordTakerFill(): void {
    // Our own fills do not move a market that is driven by recorded or hub data.
    this.takerFills += 1;
  }

  #symbol(symbol: string): SymbolState {
    const s = this.#state.get(symbol);
    if (s === undefined) throw new DrivenMarketError(`unknown symbol ${symbol}`);
    return s;
  }

  #touched(symbol: string): SymbolState {
    const s = this.#symbol(symbol);
    if (s.pendingTrade !== undefined) {
      const t = s.pendingTrade;
      s.book.touchAt(Decimal.parse(t.price), t.takerSold, 1, t.time);
      s.pendingTrade = undefined;
    } else if (s.pendingQuote !== undefined) {
      const q = s.pendingQuote;
      const bid = s.book.ticksOf(Decimal.parse(q.bid));
      const ask = s.book.ticksOf(Decimal.parse(q.ask).snap(s.spec.tickSize, 'ceil'));
      s.book.setTouch(bid, ask, q.time);
      s.pendingQuote = undefined;
    }
    return s;
  }
}
