// Klines of one symbol for every Binance interval, built by the native aggregator from the market's own aggTrades.
import { Decimal } from '../../ts/exact/decimal.js';
import { BarAggregator, type BarObject } from '../../ts/native/bar-aggregator.js';
import type { AggregatorBatchResult, KlineObject } from '../../ts/native/index.js';
import { INTERVALS, type IntervalName, intervalOpenTime } from '../../ts/native/interval.js';

/** The intervals the native aggregator builds (every fixed-length one; `1M` is folded from `1d` here). */
export const AGGREGATED_INTERVALS = INTERVALS.filter((i): i is Exclude<IntervalName, '1M'> => i !== '1M');

const MINUTE = 60_000;
const INTERVAL_MS: Readonly<Record<Exclude<IntervalName, '1M'>, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '8h': 480 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': 1440 * MINUTE,
  '3d': 3 * 1440 * MINUTE,
  '1w': 7 * 1440 * MINUTE,
};

/** Which bars a GET /fapi/v1/klines request selects. */
export interface KlineQuery {
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly limit: number;
}

/**
 * The klines of one symbol. Every trade reaches the aggregator as the exact `aggTrade` message the
 * market publishes, so the klines served over REST and streams are what a client would build from
 * the aggTrade stream. Closed bars are kept per interval (`history` bars each); the still-open bar
 * comes from the aggregator, and a window without trades yet shows the empty bar Binance shows.
 */
export class SymbolKlines {
  readonly #aggregator: BarAggregator;
  readonly #history = new Map<IntervalName, KlineObject[]>();
  readonly #limit: number;

  constructor(symbol: string, history = 2000) {
    this.#aggregator = new BarAggregator(symbol, [...AGGREGATED_INTERVALS]);
    this.#limit = history;
  }

  /** Applies aggTrade messages; closed bars are stored and returned in the result. */
  push(messages: Buffer[]): AggregatorBatchResult {
    const result = this.#aggregator.pushMessages(messages);
    this.#store(result.closed);
    return result;
  }

  /** Closes the bars that ended at or before `now` (empty ones too); returns them. */
  advance(now: number): BarObject[] {
    const closed = this.#aggregator.advanceTo(now);
    this.#store(closed);
    return closed;
  }

  /** The bar of `interval` containing `now`: the open one, or an empty one after a quiet spell. */
  current(interval: IntervalName, now: number): KlineObject | undefined {
    if (interval === '1M') return this.#months(now).at(-1);
    const open = this.#aggregator.openBar(interval);
    if (open !== null) return open.kline;
    const last = this.#history.get(interval)?.at(-1);
    if (last === undefined) return undefined;
    const openTime = intervalOpenTime(interval, now);
    if (openTime <= last.openTime) return undefined;
    return emptyBar(last, openTime, openTime + INTERVAL_MS[interval] - 1);
  }

  /** Bars for a REST request, oldest first: stored closed bars plus the current one. */
  bars(interval: IntervalName, now: number, query: KlineQuery): KlineObject[] {
    let all: KlineObject[];
    if (interval === '1M') {
      all = this.#months(now);
    } else {
      all = [...(this.#history.get(interval) ?? [])];
      const current = this.current(interval, now);
      if (current !== undefined) all.push(current);
    }
    const selected = all.filter(
      (k) =>
        (query.startTime === undefined || k.openTime >= query.startTime) &&
        (query.endTime === undefined || k.openTime <= query.endTime),
    );
    return query.startTime !== undefined
      ? selected.slice(0, query.limit)
      : selected.slice(Math.max(0, selected.length - query.limit));
  }

  #store(closed: BarObject[]): void {
    for (const bar of closed) {
      const name = bar.interval as IntervalName;
      let list = this.#history.get(name);
      if (list === undefined) {
        list = [];
        this.#history.set(name, list);
      }
      list.push(bar.kline);
      if (list.length > this.#limit * 2) list.splice(0, list.length - this.#limit);
    }
  }

  /** Calendar-month bars folded from the day bars (the aggregator builds fixed-length bars only). */
  #months(now: number): KlineObject[] {
    const days = [...(this.#history.get('1d') ?? [])];
    const today = this.current('1d', now);
    if (today !== undefined) days.push(today);
    const months: KlineObject[] = [];
    let group: KlineObject[] = [];
    let groupStart = -1;
    for (const day of days) {
      const start = monthStart(day.openTime);
      if (start !== groupStart && group.length > 0) {
        months.push(foldMonth(group, groupStart, now));
        group = [];
      }
      groupStart = start;
      group.push(day);
    }
    if (group.length > 0) months.push(foldMonth(group, groupStart, now));
    return months;
  }
}

function monthStart(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonthStart(start: number): number {
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function zeroLike(text: string): string {
  return Decimal.of(0n, Decimal.parse(text).scale).toString();
}

/** A bar without trades: every price is the previous close, volumes are zero at the same scale. */
function emptyBar(previous: KlineObject, openTime: number, closeTime: number): KlineObject {
  return {
    openTime,
    closeTime,
    open: previous.close,
    high: previous.close,
    low: previous.close,
    close: previous.close,
    volume: zeroLike(previous.volume),
    quoteVolume: zeroLike(previous.quoteVolume),
    trades: 0,
    takerBuyVolume: zeroLike(previous.takerBuyVolume),
    takerBuyQuoteVolume: zeroLike(previous.takerBuyQuoteVolume),
    closed: false,
    asOf: previous.asOf,
  };
}

/** One month from its day bars, in order (exact sums; high/low over days that traded). */
function foldMonth(days: KlineObject[], start: number, now: number): KlineObject {
  const first = days[0];
  const last = days.at(-1);
  if (first === undefined || last === undefined) throw new RangeError('a month needs at least one day');
  let high = Decimal.parse(first.high);
  let low = Decimal.parse(first.low);
  let volume = Decimal.ZERO;
  let quote = Decimal.ZERO;
  let takerVolume = Decimal.ZERO;
  let takerQuote = Decimal.ZERO;
  let trades = 0;
  let firstTradeId: number | undefined;
  let lastTradeId: number | undefined;
  for (const day of days) {
    volume = volume.add(Decimal.parse(day.volume));
    quote = quote.add(Decimal.parse(day.quoteVolume));
    takerVolume = takerVolume.add(Decimal.parse(day.takerBuyVolume));
    takerQuote = takerQuote.add(Decimal.parse(day.takerBuyQuoteVolume));
    trades += day.trades;
    if (day.trades > 0) {
      high = Decimal.max(high, Decimal.parse(day.high));
      low = Decimal.min(low, Decimal.parse(day.low));
      firstTradeId ??= day.firstTradeId;
      lastTradeId = day.lastTradeId ?? lastTradeId;
    }
  }
  const closeTime = nextMonthStart(start) - 1;
  const month: KlineObject = {
    openTime: start,
    closeTime,
    open: first.open,
    high: high.toString(),
    low: low.toString(),
    close: last.close,
    volume: volume.toString(),
    quoteVolume: quote.toString(),
    trades,
    takerBuyVolume: takerVolume.toString(),
    takerBuyQuoteVolume: takerQuote.toString(),
    closed: closeTime < now,
    asOf: last.asOf,
  };
  if (firstTradeId !== undefined) month.firstTradeId = firstTradeId;
  if (lastTradeId !== undefined) month.lastTradeId = lastTradeId;
  return month;
}
