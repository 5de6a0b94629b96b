// TEST ONLY: a deterministic MarketView whose book, prices and trades a test scripts by hand.
import { Decimal } from '../../../ts/exact/decimal.js';
import type {
  BookLevel,
  LiquidationReport,
  MarketTrade,
  MarketView,
  SimClock,
  SymbolSpec,
} from '../../contracts.js';

const d = Decimal.parse;

/** A BTCUSDT-like spec (tick 0.10, step 0.001, min notional 5, max leverage 125, mmr 0.4 %). */
export function testSpec(overrides: Partial<SymbolSpec> = {}): SymbolSpec {
  return {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    pricePrecision: 2,
    quantityPrecision: 3,
    tickSize: d('0.10'),
    minPrice: d('10.00'),
    maxPrice: d('4529764'),
    stepSize: d('0.001'),
    minQty: d('0.001'),
    maxQty: d('1000'),
    marketStepSize: d('0.001'),
    marketMinQty: d('0.001'),
    marketMaxQty: d('120'),
    minNotional: d('5'),
    multiplierUp: d('1.0500'),
    multiplierDown: d('0.9500'),
    maxLeverage: 125,
    maintMarginRatio: d('0.004'),
    initialPrice: d('100'),
    ...overrides,
  };
}

/** A clock the test moves by hand. */
export class ManualClock implements SimClock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): number {
    this.time += ms;
    return this.time;
  }
}

type Level = readonly [string, string];

/**
 * A market that does only what the test tells it: `setBook` replaces a symbol's book, `trade`
 * prints a public trade to the engine, prices and funding rate are set directly. Taker fills the
 * engine reports are recorded and, like a real book, consume the levels they hit.
 */
export class ScriptedMarket implements MarketView {
  readonly #specs: SymbolSpec[];
  readonly #books = new Map<string, { bids: BookLevel[]; asks: BookLevel[] }>();
  readonly #last = new Map<string, Decimal>();
  readonly #mark = new Map<string, Decimal>();
  readonly #funding = new Map<string, Decimal>();
  readonly #listeners = new Set<(trade: MarketTrade) => void>();
  readonly takerFills: MarketTrade[] = [];
  readonly liquidations: LiquidationReport[] = [];

  constructor(
    specs: readonly SymbolSpec[],
    readonly clock: ManualClock,
  ) {
    this.#specs = [...specs];
    for (const s of specs) {
      this.#last.set(s.symbol, s.initialPrice);
      this.#mark.set(s.symbol, s.initialPrice);
      this.#funding.set(s.symbol, d('0.0001'));
      this.#books.set(s.symbol, { bids: [], asks: [] });
    }
  }

  specs(): readonly SymbolSpec[] {
    return this.#specs;
  }
  spec(symbol: string): SymbolSpec | undefined {
    return this.#specs.find((s) => s.symbol === symbol);
  }

  /** Replaces the book: `[price, qty]` pairs, best first. */
  setBook(symbol: string, bids: readonly Level[], asks: readonly Level[]): void {
    const level = ([p, q]: Level): BookLevel => ({ price: d(p), qty: d(q) });
    this.#books.set(symbol, { bids: bids.map(level), asks: asks.map(level) });
  }

  book(symbol: string, levels: number) {
    const b = this.#books.get(symbol) ?? { bids: [], asks: [] };
    return { bids: b.bids.slice(0, levels), asks: b.asks.slice(0, levels) };
  }

  lastPrice(symbol: string): Decimal {
    return this.#last.get(symbol) ?? Decimal.ZERO;
  }
  markPrice(symbol: string): Decimal {
    return this.#mark.get(symbol) ?? Decimal.ZERO;
  }
  fundingRate(symbol: string): Decimal {
    return this.#funding.get(symbol) ?? Decimal.ZERO;
  }
  setMark(symbol: string, price: string): void {
    this.#mark.set(symbol, d(price));
  }
  setLast(symbol: string, price: string): void {
    this.#last.set(symbol, d(price));
  }
  setFundingRate(symbol: string, rate: string): void {
    this.#funding.set(symbol, d(rate));
  }

  onTrade(listener: (trade: MarketTrade) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Prints a public trade; `takerSide` is the aggressor (SELL means the buyer was the maker). */
  trade(symbol: string, price: string, qty: string, takerSide: 'BUY' | 'SELL'): void {
    const trade: MarketTrade = {
      symbol,
      price: d(price),
      qty: d(qty),
      time: this.clock.now(),
      buyerIsMaker: takerSide === 'SELL',
    };
    this.#last.set(symbol, trade.price);
    for (const l of this.#listeners) l(trade);
  }

  recordLiquidation(report: LiquidationReport): void {
    this.liquidations.push(report);
  }

  recordTakerFill(trade: MarketTrade): void {
    this.takerFills.push(trade);
    this.#last.set(trade.symbol, trade.price);
    const book = this.#books.get(trade.symbol);
    if (book === undefined) return;
    const side = trade.buyerIsMaker ? book.bids : book.asks;
    const i = side.findIndex((l) => l.price.eq(trade.price));
    const level = side[i];
    if (level === undefined) return;
    const left = level.qty.sub(trade.qty);
    if (left.sign() <= 0) side.splice(i, 1);
    else side[i] = { price: level.price, qty: left };
  }
}
