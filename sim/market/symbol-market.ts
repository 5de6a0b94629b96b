// The market state of one symbol (tape, klines, book, funding) and its Binance-shaped views.
import { Decimal } from '../../ts/exact/decimal.js';
import type { AggregatorBatchResult, KlineObject } from '../../ts/native/index.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { Json, SymbolSpec } from '../contracts.js';
import { FundingState, INTEREST_RATE } from './funding.js';
import { SymbolKlines } from './klines.js';
import type { Prng } from './prng.js';
import type { RandomWalk } from './random-walk.js';
import { SyntheticBook } from './synthetic-book.js';
import { AggTradeTape, type TapeTrade } from './tape.js';

const DAY_MS = 86_400_000;
const HUNDRED = Decimal.fromInt(100);

/** Options of one symbol's market. */
export interface SymbolMarketOptions {
  readonly spec: SymbolSpec;
  /** The symbol's own PRNG (the walk and the funding basis draw from it). */
  readonly prng: Prng;
  readonly now: number;
  readonly tapeCapacity: number;
  readonly klineHistory: number;
  /** First aggregate trade id and first underlying trade id. */
  readonly firstAggId: number;
  readonly firstTradeId: number;
}

/**
 * One symbol's market. Every view derives from the trades recorded here: the tape, the klines (the
 * native aggregator fed with the exact aggTrade messages published), last price, 24h statistics,
 * and the book's touch, which follows the trades.
 */
export class SymbolMarket {
  readonly spec: SymbolSpec;
  /** The symbol as stream names spell it (`btcusdt`). */
  readonly stream: string;
  readonly book: SyntheticBook;
  readonly tape: AggTradeTape;
  readonly klines: SymbolKlines;
  readonly funding: FundingState;
  walk: RandomWalk | undefined;
  lastTime: number;
  #nextAggId: number;
  #nextTradeId: number;
  #lastPrice: Decimal | undefined;
  #pending: Buffer[] = [];

  constructor(options: SymbolMarketOptions) {
    this.spec = options.spec;
    this.stream = options.spec.symbol.toLowerCase();
    this.book = new SyntheticBook(options.spec, options.prng.nextU32(), options.now, options.firstAggId * 7);
    this.tape = new AggTradeTape(options.tapeCapacity);
    this.klines = new SymbolKlines(options.spec.symbol, options.klineHistory);
    this.funding = new FundingState(options.spec, options.prng, options.now);
    this.lastTime = 0;
    this.#nextAggId = options.firstAggId;
    this.#nextTradeId = options.firstTradeId;
  }

  /**
   * Puts a trade on the tape: assigns the aggregate id and `fills` underlying trade ids, keeps
   * times non-decreasing (a clock moved back never reorders the tape) and queues the aggTrade
   * message for the klines. Returns the tape record and the stream payload.
   */
  record(
    price: string,
    qty: string,
    buyerIsMaker: boolean,
    time: number,
    fills: number,
  ): {
    trade: TapeTrade;
    event: { [key: string]: Json };
  } {
    const T = Math.max(time, this.lastTime);
    this.lastTime = T;
    const a = this.#nextAggId++;
    const f = this.#nextTradeId;
    const l = f + Math.max(1, fills) - 1;
    this.#nextTradeId = l + 1;
    const trade: TapeTrade = { a, p: price, q: qty, f, l, T, m: buyerIsMaker };
    this.tape.append(trade);
    this.#lastPrice = Decimal.parse(price);
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
    return { trade, event };
  }

  /**
   * Continues the ids of a replayed file: before the first trade, the next ids become the file's,
   * so a contiguous dump keeps its own aggregate and trade ids on the tape.
   */
  adoptIds(aggId: number, tradeId: number): void {
    if (this.tape.size > 0 || this.#lastPrice !== undefined) return;
    this.#nextAggId = aggId;
    this.#nextTradeId = tradeId;
  }

  /** Feeds the queued aggTrade messages to the klines; undefined when none were queued. */
  flushKlines(): AggregatorBatchResult | undefined {
    if (this.#pending.length === 0) return undefined;
    const messages = this.#pending;
    this.#pending = [];
    return this.klines.push(messages);
  }

  /** The last trade price, or the start price before the first trade. */
  lastPrice(): Decimal {
    return this.#lastPrice ?? this.spec.initialPrice;
  }

  /** True once a trade was recorded. */
  hasTraded(): boolean {
    return this.#lastPrice !== undefined;
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

  /** Formats a price at the symbol's price precision (8 for mark/index, as Binance writes them). */
  #px(value: Decimal, scale = this.spec.pricePrecision): string {
    return value.toFixed(scale);
  }

  /** `markPriceUpdate` stream payload. */
  markPriceEvent(now: number): { [key: string]: Json } {
    return {
      e: 'markPriceUpdate',
      E: now,
      s: this.spec.symbol,
      p: this.#px(this.markPrice(now), 8),
      i: this.#px(this.indexPrice(), 8),
      P: this.#px(this.indexPrice(), 8),
      r: this.funding.rate().toFixed(8),
      T: this.funding.nextFundingTime,
    };
  }

  /** GET /fapi/v1/premiumIndex row. */
  premiumIndex(now: number): { [key: string]: Json } {
    const index = this.#px(this.indexPrice(), 8);
    return {
      symbol: this.spec.symbol,
      markPrice: this.#px(this.markPrice(now), 8),
      indexPrice: index,
      estimatedSettlePrice: index,
      lastFundingRate: this.funding.rate().toFixed(8),
      interestRate: INTEREST_RATE.toFixed(8),
      nextFundingTime: this.funding.nextFundingTime,
      time: now,
    };
  }

  #touch(): { b: string; B: string; a: string; A: string } {
    const { bids, asks } = this.book.levels(1);
    const bid = bids[0];
    const ask = asks[0];
    return {
      b: bid === undefined ? '0' : bid.price.toString(),
      B: bid === undefined ? '0' : bid.qty.toString(),
      a: ask === undefined ? '0' : ask.price.toString(),
      A: ask === undefined ? '0' : ask.qty.toString(),
    };
  }

  /** `bookTicker` stream payload. */
  bookTickerEvent(now: number): { [key: string]: Json } {
    const t = this.#touch();
    return { e: 'bookTicker', u: this.book.updateId, s: this.spec.symbol, ...t, T: this.book.time, E: now };
  }

  /** GET /fapi/v1/ticker/bookTicker row. */
  bookTickerRow(): { [key: string]: Json } {
    const t = this.#touch();
    return {
      symbol: this.spec.symbol,
      bidPrice: t.b,
      bidQty: t.B,
      askPrice: t.a,
      askQty: t.A,
      time: this.book.time,
      lastUpdateId: this.book.updateId,
    };
  }

  #sides(levels: number): { bids: Json[]; asks: Json[] } {
    const { bids, asks } = this.book.levels(levels);
    return {
      bids: bids.map((l) => [l.price.toString(), l.qty.toString()]),
      asks: asks.map((l) => [l.price.toString(), l.qty.toString()]),
    };
  }

  /** GET /fapi/v1/depth body. */
  depth(levels: number, now: number): { [key: string]: Json } {
    const { bids, asks } = this.#sides(levels);
    return { lastUpdateId: this.book.updateId, E: now, T: this.book.time, bids, asks };
  }

  /** Partial book depth (`<s>@depth<levels>`) payload; `previous` is the `u` of the last one sent. */
  depthEvent(levels: number, now: number, previous: number): { [key: string]: Json } {
    const { bids, asks } = this.#sides(levels);
    const u = this.book.updateId;
    return {
      e: 'depthUpdate',
      E: now,
      T: this.book.time,
      s: this.spec.symbol,
      U: previous < 0 ? u : previous + 1,
      u,
      pu: previous < 0 ? u - 1 : previous,
      b: bids,
      a: asks,
    };
  }

  /** GET /fapi/v1/ticker/price row. */
  priceRow(): { [key: string]: Json } {
    return {
      symbol: this.spec.symbol,
      price: this.lastPrice().toString(),
      time: this.lastTime || this.book.time,
    };
  }

  /** `kline` stream payload for a bar; `x` is the bar's closed flag. */
  klineEvent(interval: IntervalName, k: KlineObject, eventTime: number): { [key: string]: Json } {
    return {
      e: 'kline',
      E: eventTime,
      s: this.spec.symbol,
      k: {
        t: k.openTime,
        T: k.closeTime,
        s: this.spec.symbol,
        i: interval,
        f: k.firstTradeId ?? -1,
        L: k.lastTradeId ?? -1,
        o: k.open,
        c: k.close,
        h: k.high,
        l: k.low,
        v: k.volume,
        n: k.trades,
        x: k.closed,
        q: k.quoteVolume,
        V: k.takerBuyVolume,
        Q: k.takerBuyQuoteVolume,
        B: '0',
      },
    };
  }

  /**
   * GET /fapi/v1/ticker/24hr row over the last 24 hours at minute granularity (the 1m bars whose
   * window starts within them, so the statistics agree with the klines).
   */
  ticker24h(now: number): { [key: string]: Json } {
    const bars = this.klines
      .bars('1m', now, { startTime: now - DAY_MS + 1, limit: 1441 })
      .filter((k) => k.trades > 0);
    const px = this.spec.pricePrecision;
    const last = this.lastPrice();
    let open = last;
    let high = last;
    let low = last;
    let volume = Decimal.ZERO;
    let quote = Decimal.ZERO;
    let count = 0;
    const first = bars[0];
    if (first !== undefined) {
      open = Decimal.parse(first.open);
      high = Decimal.parse(first.high);
      low = Decimal.parse(first.low);
    }
    for (const k of bars) {
      high = Decimal.max(high, Decimal.parse(k.high));
      low = Decimal.min(low, Decimal.parse(k.low));
      volume = volume.add(Decimal.parse(k.volume));
      quote = quote.add(Decimal.parse(k.quoteVolume));
      count += k.trades;
    }
    const change = last.sub(open);
    const percent = open.isZero() ? Decimal.ZERO : change.mul(HUNDRED).div(open, 3);
    const average = volume.isZero() ? Decimal.ZERO : quote.div(volume, px);
    const lastTrade = this.tape.last();
    const closeTime = lastTrade?.T ?? now;
    return {
      symbol: this.spec.symbol,
      priceChange: change.toFixed(px),
      priceChangePercent: percent.toFixed(3),
      weightedAvgPrice: average.toFixed(px),
      lastPrice: last.toFixed(px),
      lastQty: lastTrade === undefined ? '0' : lastTrade.q,
      openPrice: open.toFixed(px),
      highPrice: high.toFixed(px),
      lowPrice: low.toFixed(px),
      volume: volume.toFixed(this.spec.quantityPrecision),
      quoteVolume: quote.toFixed(2),
      openTime: closeTime - DAY_MS,
      closeTime,
      firstId: first?.firstTradeId ?? -1,
      lastId: bars.at(-1)?.lastTradeId ?? -1,
      count,
    };
  }
}
