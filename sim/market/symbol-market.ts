// The market state of one symbol: history, tape, klines, book and funding, fed by its trades.
import { Decimal } from '../../ts/exact/decimal.js';
import type { AggregatorBatchResult } from '../../ts/native/index.js';
import type { Json, SymbolSpec } from '../contracts.js';
import { FundingState } from './funding.js';
import { HistoryModel } from './history/history-model.js';
import type { NodeCache } from './history/node-cache.js';
import { PriceUnits } from './history/price-units.js';
import { SymbolKlines } from './klines.js';
import { LiveBars } from './live-bars.js';
import type { Prng } from './prng.js';
import type { RandomWalk } from './random-walk.js';
import { SyntheticBook } from './synthetic-book.js';
import { AggTradeTape, type TapeEntry } from './tape.js';

/** How the history of a symbol is shaped (from the market's configuration). */
export interface HistoryPlan {
  /** First month start of the history. */
  readonly startTime: number;
  readonly aggPerMinute: number;
  readonly meanTradeSteps: number;
  readonly fillsPerAgg: number;
  readonly annualVolatility: number;
  readonly cache: NodeCache;
}

/** Where the live market begins: its first price and ids (a replay's first trade, or the walk's). */
export interface LiveStart {
  readonly price: Decimal;
  readonly aggId: number;
  readonly tradeId: number;
}

/** Options of one symbol's market. */
export interface SymbolMarketOptions {
  readonly spec: SymbolSpec;
  /** The symbol's own PRNG (the walk and the funding basis draw from it). */
  readonly prng: Prng;
  /** The symbol's seed for its history, and its index in the market (below 2,048). */
  readonly seed: number;
  readonly index: number;
  /** Market start time; the history ends at its minute. */
  readonly now: number;
  readonly tapeCapacity: number;
  readonly history: HistoryPlan;
  readonly start: LiveStart;
}

/** A trade whose price or quantity is not on the symbol's grids (nothing was recorded). */
export class OffGridTrade extends Error {
  override readonly name = 'OffGridTrade';
}

/** A liquidation order of the market (another trader's, or an account's), as forceOrder reports it. */
export interface Liquidation {
  readonly side: 'BUY' | 'SELL';
  /** The order's limit (bankruptcy) price and its average fill price. */
  readonly price: Decimal;
  readonly averagePrice: Decimal;
  readonly qty: Decimal;
  readonly time: number;
}

/**
 * One symbol's market. Its past is a deterministic {@link HistoryModel} ending at the start
 * minute; from then on every trade recorded here goes on the tape and, as the exact aggTrade
 * message published, into the live klines; the book's touch follows the trades.
 */
export class SymbolMarket {
  readonly spec: SymbolSpec;
  /** The symbol as stream names spell it (`btcusdt`). */
  readonly stream: string;
  readonly units: PriceUnits;
  readonly book: SyntheticBook;
  readonly tape: AggTradeTape;
  readonly history: HistoryModel;
  readonly klines: SymbolKlines;
  readonly funding: FundingState;
  walk: RandomWalk | undefined;
  lastTime: number;
  /** The latest liquidation not yet reported on the forceOrder streams. */
  pendingLiquidation: Liquidation | undefined;
  readonly #live: LiveBars;
  #nextAggId: number;
  #nextTradeId: number;
  #lastPrice: Decimal;
  #lastQty = '0';
  #traded = false;
  #pending: Buffer[] = [];

  constructor(options: SymbolMarketOptions) {
    const { spec, start } = options;
    this.spec = spec;
    this.stream = spec.symbol.toLowerCase();
    this.units = new PriceUnits(spec);
    const liveStart = Math.floor(options.now / 60_000) * 60_000;
    const startTicks = this.units.ticksOf(start.price.rescale(this.units.priceScale, 'half-even').toString());
    this.book = new SyntheticBook(spec, options.prng.nextU32(), options.now, start.aggId * 7, start.price);
    this.tape = new AggTradeTape(options.tapeCapacity, this.units);
    this.history = new HistoryModel({
      spec,
      seed: options.seed,
      index: options.index,
      startTime: Math.min(options.history.startTime, liveStart),
      endTime: liveStart,
      endTicks: startTicks,
      liveFirstAggId: start.aggId,
      liveFirstTradeId: start.tradeId,
      aggPerMinute: options.history.aggPerMinute,
      meanTradeSteps: options.history.meanTradeSteps,
      fillsPerAgg: options.history.fillsPerAgg,
      annualVolatility: options.history.annualVolatility,
      cache: options.history.cache,
    });
    this.#live = new LiveBars(spec.symbol, this.units);
    this.klines = new SymbolKlines(this.history, this.#live, startTicks);
    this.funding = new FundingState(spec, options.prng, options.now);
    this.lastTime = 0;
    this.#nextAggId = start.aggId;
    this.#nextTradeId = start.tradeId;
    this.#lastPrice = this.units.priceDecimal(startTicks);
  }

  /**
   * Puts a trade on the tape: assigns the aggregate id and `fills` underlying trade ids, keeps
   * times non-decreasing (a clock moved back never reorders the tape) and queues the aggTrade
   * message for the klines. Prices and quantities are written at the symbol's scales. Returns the
   * stream payload; throws {@link OffGridTrade} (recording nothing) for a price or quantity off
   * the symbol's grids.
   */
  record(
    priceText: string,
    qtyText: string,
    buyerIsMaker: boolean,
    time: number,
    fills: number,
  ): { [key: string]: Json } {
    const ticks = this.units.exactTicks(priceText);
    const steps = this.units.exactSteps(qtyText);
    if (ticks === undefined || steps === undefined) {
      throw new OffGridTrade(
        `${this.spec.symbol} trade ${qtyText} @ ${priceText} is off the tick or step grid`,
      );
    }
    const price = this.units.price(ticks);
    const qty = this.units.qty(steps);
    const T = Math.max(time, this.lastTime);
    this.lastTime = T;
    const a = this.#nextAggId++;
    const f = this.#nextTradeId;
    const l = f + Math.max(1, fills) - 1;
    this.#nextTradeId = l + 1;
    const entry: TapeEntry = { a, ticks, steps: Number(steps), f, l, T, m: buyerIsMaker };
    this.tape.append(entry);
    this.#lastPrice = Decimal.parse(price);
    this.#lastQty = qty;
    this.#traded = true;
    this.klines.noteTrade(ticks, T);
    const event = {
      e: 'aggTrade',
      E: T,
      s: this.spec.symbol,
      a,
      p: price,
      q: qty,
      nq: qty,
      f,
      l,
      T,
      m: buyerIsMaker,
    };
    this.#pending.push(Buffer.from(JSON.stringify(event)));
    return event;
  }

  /** Feeds the queued aggTrade messages to the live klines; undefined when none were queued. */
  flushKlines(): AggregatorBatchResult | undefined {
    if (this.#pending.length === 0) return undefined;
    const messages = this.#pending;
    this.#pending = [];
    return this.#live.push(messages);
  }

  /** Closes live bars that ended by `now`; returns their intervals and open times. */
  advanceKlines(now: number): Array<{ interval: string; openTime: number }> {
    if (!this.#traded) return [];
    this.flushKlines();
    return this.#live.advance(now).map((b) => ({ interval: b.interval, openTime: b.kline.openTime }));
  }

  /** The last trade price (live, or the history's close before the first live trade). */
  lastPrice(): Decimal {
    return this.#lastPrice;
  }

  /** The last trade's quantity string ('0' before the first live trade). */
  lastQty(): string {
    return this.#lastQty;
  }

  /** True once a live trade was recorded. */
  hasTraded(): boolean {
    return this.#traded;
  }

  /** The aggregate trade id the next live trade gets. */
  nextAggId(): number {
    return this.#nextAggId;
  }

  bid(): Decimal {
    return this.book.price(this.book.bidTicks);
  }

  ask(): Decimal {
    return this.book.price(this.book.askTicks);
  }

  markPrice(now: number): Decimal {
    return this.funding.markPrice(this.bid(), this.ask(), this.lastPrice(), now);
  }

  indexPrice(): Decimal {
    return this.funding.indexPrice(this.book.mid());
  }
}
