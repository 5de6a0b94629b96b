// Binance's REST rows and stream payloads for one symbol's market, in Binance's field names and formats.
import { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { Json } from '../contracts.js';
import { INTEREST_RATE } from './funding.js';
import { type IntBar, toKlineObject } from './int-bar.js';
import type { Liquidation, SymbolMarket } from './symbol-market.js';
import type { BookMark } from './synthetic-book.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const HUNDRED = Decimal.fromInt(100);

type Row = { [key: string]: Json };

/** A price at 8 digits, as Binance writes mark and index prices. */
function px8(value: Decimal): string {
  return value.toFixed(8);
}

/** `markPriceUpdate` stream payload. */
export function markPriceEvent(m: SymbolMarket, now: number): Row {
  const index = px8(m.indexPrice());
  return {
    e: 'markPriceUpdate',
    E: now,
    s: m.spec.symbol,
    p: px8(m.markPrice(now)),
    i: index,
    P: index,
    r: m.funding.rate().toFixed(8),
    T: m.funding.nextFundingTime,
  };
}

/** GET /fapi/v1/premiumIndex row. */
export function premiumIndexRow(m: SymbolMarket, now: number): Row {
  const index = px8(m.indexPrice());
  return {
    symbol: m.spec.symbol,
    markPrice: px8(m.markPrice(now)),
    indexPrice: index,
    estimatedSettlePrice: index,
    lastFundingRate: m.funding.rate().toFixed(8),
    interestRate: INTEREST_RATE.toFixed(8),
    nextFundingTime: m.funding.nextFundingTime,
    time: now,
  };
}

function touch(m: SymbolMarket): { b: string; B: string; a: string; A: string } {
  const { bids, asks } = m.book.levels(1);
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
export function bookTickerEvent(m: SymbolMarket, now: number): Row {
  return { e: 'bookTicker', u: m.book.updateId, s: m.spec.symbol, ...touch(m), T: m.book.time, E: now };
}

/** GET /fapi/v1/ticker/bookTicker row. */
export function bookTickerRow(m: SymbolMarket): Row {
  const t = touch(m);
  return {
    symbol: m.spec.symbol,
    bidPrice: t.b,
    bidQty: t.B,
    askPrice: t.a,
    askQty: t.A,
    time: m.book.time,
    lastUpdateId: m.book.updateId,
  };
}

function sides(m: SymbolMarket, levels: number): { bids: Json[]; asks: Json[] } {
  const { bids, asks } = m.book.levels(levels);
  return {
    bids: bids.map((l) => [l.price.toString(), l.qty.toString()]),
    asks: asks.map((l) => [l.price.toString(), l.qty.toString()]),
  };
}

/** GET /fapi/v1/depth body. */
export function depthBody(m: SymbolMarket, levels: number, now: number): Row {
  const { bids, asks } = sides(m, levels);
  return { lastUpdateId: m.book.updateId, E: now, T: m.book.time, bids, asks };
}

/** Partial book depth (`<s>@depth<levels>`) payload; `previous` is the `u` of the last one sent. */
export function partialDepthEvent(m: SymbolMarket, levels: number, now: number, previous: number): Row {
  const { bids, asks } = sides(m, levels);
  const u = m.book.updateId;
  return {
    e: 'depthUpdate',
    E: now,
    T: m.book.time,
    s: m.spec.symbol,
    U: previous < 0 ? u : previous + 1,
    u,
    pu: previous < 0 ? u - 1 : previous,
    b: bids,
    a: asks,
  };
}

/** Diff depth (`<s>@depth`) payload: the levels that changed since `since`, with `U`/`u`/`pu`. */
export function diffDepthEvent(m: SymbolMarket, since: BookMark, now: number): Row {
  const { bids, asks } = m.book.diffSince(since);
  const level = (c: { ticks: number; steps: number }): Json => [
    m.book.price(c.ticks).toString(),
    m.book.qty(c.steps).toString(),
  ];
  return {
    e: 'depthUpdate',
    E: now,
    T: m.book.time,
    s: m.spec.symbol,
    U: since.updateId + 1,
    u: m.book.updateId,
    pu: since.updateId,
    b: bids.map(level),
    a: asks.map(level),
  };
}

/** GET /fapi/v1/ticker/price and /fapi/v2/ticker/price row. */
export function priceRow(m: SymbolMarket): Row {
  return {
    symbol: m.spec.symbol,
    price: m.lastPrice().toString(),
    time: m.lastTime || m.book.time,
  };
}

/** The `k` object of a kline stream payload. */
function klineBody(m: SymbolMarket, interval: IntervalName, bar: IntBar, closed: boolean): Row {
  const k = toKlineObject(bar, m.units, closed);
  return {
    t: k.openTime,
    T: k.closeTime,
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
  };
}

/** `kline` stream payload. */
export function klineEvent(
  m: SymbolMarket,
  interval: IntervalName,
  bar: IntBar,
  closed: boolean,
  now: number,
): Row {
  return {
    e: 'kline',
    E: now,
    s: m.spec.symbol,
    k: { s: m.spec.symbol, ...klineBody(m, interval, bar, closed) },
  };
}

/** `continuous_kline` stream payload of the perpetual contract. */
export function continuousKlineEvent(
  m: SymbolMarket,
  interval: IntervalName,
  bar: IntBar,
  closed: boolean,
  now: number,
): Row {
  return {
    e: 'continuous_kline',
    E: now,
    ps: m.spec.symbol,
    ct: 'PERPETUAL',
    k: klineBody(m, interval, bar, closed),
  };
}

/** A REST klines row (Binance's 12-column array). */
export function klineRow(m: SymbolMarket, bar: IntBar, closed: boolean): Json {
  const k = toKlineObject(bar, m.units, closed);
  return [
    k.openTime,
    k.open,
    k.high,
    k.low,
    k.close,
    k.volume,
    k.closeTime,
    k.quoteVolume,
    k.trades,
    k.takerBuyVolume,
    k.takerBuyQuoteVolume,
    '0',
  ];
}

/** The rolling 24-hour statistics: the 1m windows that start within the last 24 hours. */
export interface DayStats {
  readonly open: Decimal;
  readonly high: Decimal;
  readonly low: Decimal;
  readonly last: Decimal;
  readonly volume: string;
  readonly quote: string;
  readonly weighted: string;
  readonly change: string;
  readonly percent: string;
  readonly openTime: number;
  readonly closeTime: number;
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
}

/** The 24-hour window's statistics, exact, at Binance's precisions. */
export function dayStats(m: SymbolMarket, now: number): DayStats {
  const from = Math.ceil((now - DAY + 1) / MINUTE) * MINUTE;
  const bar = m.klines.aggregate(from, now);
  const px = m.spec.pricePrecision;
  const last = m.lastPrice();
  const traded = bar !== undefined && bar.trades > 0;
  const open = traded ? m.units.priceDecimal(bar.open) : last;
  const high = traded ? m.units.priceDecimal(bar.high) : last;
  const low = traded ? m.units.priceDecimal(bar.low) : last;
  const volume = traded ? Decimal.parse(m.units.qty(bar.volume)) : Decimal.ZERO;
  const quote = traded ? Decimal.parse(m.units.notional(bar.quote)) : Decimal.ZERO;
  const change = last.sub(open);
  const percent = open.isZero() ? Decimal.ZERO : change.mul(HUNDRED).div(open, 3);
  const weighted = volume.isZero() ? Decimal.ZERO : quote.div(volume, px);
  const closeTime = m.lastTime || now;
  return {
    open,
    high,
    low,
    last,
    volume: volume.toFixed(m.spec.quantityPrecision),
    quote: quote.toFixed(2),
    weighted: weighted.toFixed(px),
    change: change.toFixed(px),
    percent: percent.toFixed(3),
    openTime: closeTime - DAY,
    closeTime,
    firstId: traded ? (bar.firstTradeId ?? -1) : -1,
    lastId: traded ? (bar.lastTradeId ?? -1) : -1,
    count: traded ? bar.trades : 0,
  };
}

/** GET /fapi/v1/ticker/24hr row. */
export function ticker24hRow(m: SymbolMarket, now: number): Row {
  const s = dayStats(m, now);
  const px = m.spec.pricePrecision;
  return {
    symbol: m.spec.symbol,
    priceChange: s.change,
    priceChangePercent: s.percent,
    weightedAvgPrice: s.weighted,
    lastPrice: s.last.toFixed(px),
    lastQty: m.lastQty(),
    openPrice: s.open.toFixed(px),
    highPrice: s.high.toFixed(px),
    lowPrice: s.low.toFixed(px),
    volume: s.volume,
    quoteVolume: s.quote,
    openTime: s.openTime,
    closeTime: s.closeTime,
    firstId: s.firstId,
    lastId: s.lastId,
    count: s.count,
  };
}

/** `24hrTicker` stream payload. */
export function tickerEvent(m: SymbolMarket, now: number): Row {
  const s = dayStats(m, now);
  const px = m.spec.pricePrecision;
  return {
    e: '24hrTicker',
    E: now,
    s: m.spec.symbol,
    p: s.change,
    P: s.percent,
    w: s.weighted,
    c: s.last.toFixed(px),
    Q: m.lastQty(),
    o: s.open.toFixed(px),
    h: s.high.toFixed(px),
    l: s.low.toFixed(px),
    v: s.volume,
    q: s.quote,
    O: s.openTime,
    C: s.closeTime,
    F: s.firstId,
    L: s.lastId,
    n: s.count,
  };
}

/** `24hrMiniTicker` stream payload. */
export function miniTickerEvent(m: SymbolMarket, now: number): Row {
  const s = dayStats(m, now);
  const px = m.spec.pricePrecision;
  return {
    e: '24hrMiniTicker',
    E: now,
    s: m.spec.symbol,
    c: s.last.toFixed(px),
    o: s.open.toFixed(px),
    h: s.high.toFixed(px),
    l: s.low.toFixed(px),
    v: s.volume,
    q: s.quote,
  };
}

/** `forceOrder` stream payload of a liquidation order. */
export function forceOrderEvent(m: SymbolMarket, liquidation: Liquidation, now: number): Row {
  const qty = liquidation.qty.toFixed(m.spec.quantityPrecision);
  return {
    e: 'forceOrder',
    E: now,
    o: {
      s: m.spec.symbol,
      S: liquidation.side,
      o: 'LIMIT',
      f: 'IOC',
      q: qty,
      p: liquidation.price.toFixed(m.spec.pricePrecision),
      ap: liquidation.averagePrice.toFixed(m.spec.pricePrecision),
      X: 'FILLED',
      l: qty,
      z: qty,
      T: liquidation.time,
    },
  };
}
