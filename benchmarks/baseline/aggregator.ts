// Pure-TypeScript bar aggregator: aggTrade messages into Binance-style bars of several intervals.
import { type JsAggTrade, parseAggTradeMessage } from './binance-json.js';
import { AGGREGATED_INTERVALS, barOpenTime, fixedIntervalMs, type JsIntervalName } from './interval.js';
import type { JsKline } from './records.js';

/** Most bars one step may close in one interval, as in the native aggregator (about 69 days of 1m). */
export const JS_MAX_BARS_PER_STEP = 100_000;

/** Latest trade time accepted (9999-12-31T23:59:59.999Z), as in the native aggregator. */
const MAX_TRADE_TIME_MS = 253_402_300_799_999;

/** A bar: a Binance kline plus the fields Binance does not send. Sums are plain double sums. */
export interface JsBar extends JsKline {
  interval: JsIntervalName;
  /** Aggregate trades applied to the bar (`trades` counts underlying trades). */
  aggTrades: number;
  /** Quote volume ÷ volume; null for a bar without volume. Set when the bar is handed out. */
  vwap: number | null;
  /** Volume and quote volume of trades whose taker sold. Set when the bar is handed out. */
  sellVolume: number;
  sellQuoteVolume: number;
}

/** Aggregate trade ids missing between the last accepted trade and the one applied after them. */
export interface JsIdGap {
  firstMissing: number;
  lastMissing: number;
}

/** Counters since the aggregator was built, named as the native `AggregatorStatsObject`. */
export interface JsAggregatorStats {
  accepted: number;
  duplicates: number;
  late: number;
  gaps: number;
  missingIds: number;
  /** Applied trades whose time fell before the current bar's window (counted in that bar). */
  outOfWindow: number;
  /** Trades refused (wrong symbol, time out of range, a time jump too large). */
  rejected: number;
}

/** The bar state of one interval. */
interface Series {
  interval: JsIntervalName;
  lengthMs: number;
  /** The current (open) bar; undefined before the first trade. */
  bar: JsBar | undefined;
}

/** A bar opened by `trade` at `openTime`. */
function firstBar(
  series: Series,
  openTime: number,
  trade: JsAggTrade,
  notional: number,
  trades: number,
): JsBar {
  const takerBought = !trade.buyerIsMaker;
  return {
    openTime,
    closeTime: openTime + series.lengthMs - 1,
    open: trade.price,
    high: trade.price,
    low: trade.price,
    close: trade.price,
    volume: trade.quantity,
    quoteVolume: notional,
    trades,
    takerBuyVolume: takerBought ? trade.quantity : 0,
    takerBuyQuoteVolume: takerBought ? notional : 0,
    firstTradeId: trade.firstTradeId,
    lastTradeId: trade.lastTradeId,
    closed: false,
    asOf: trade.eventTime,
    interval: series.interval,
    aggTrades: 1,
    vwap: null,
    sellVolume: 0,
    sellQuoteVolume: 0,
  };
}

/** The empty bar at `openTime` after `previous`: prices repeat its close, sums are zero. */
function emptyBarAfter(previous: JsBar, lengthMs: number, openTime: number): JsBar {
  return {
    openTime,
    closeTime: openTime + lengthMs - 1,
    open: previous.close,
    high: previous.close,
    low: previous.close,
    close: previous.close,
    volume: 0,
    quoteVolume: 0,
    trades: 0,
    takerBuyVolume: 0,
    takerBuyQuoteVolume: 0,
    firstTradeId: null,
    lastTradeId: null,
    closed: false,
    asOf: previous.asOf,
    interval: previous.interval,
    aggTrades: 0,
    vwap: null,
    sellVolume: 0,
    sellQuoteVolume: 0,
  };
}

/** Fills in the derived fields of a bar that is handed out. */
function withDerived(bar: JsBar): JsBar {
  bar.vwap = bar.volume === 0 ? null : bar.quoteVolume / bar.volume;
  bar.sellVolume = bar.volume - bar.takerBuyVolume;
  bar.sellQuoteVolume = bar.quoteVolume - bar.takerBuyQuoteVolume;
  return bar;
}

/**
 * Builds bars of one symbol for several intervals from raw `aggTrade` messages, with the rules of
 * the native aggregator (`aggregator.rs`): a trade belongs to the bar containing its trade time (a
 * time before the current bar counts in it: closed bars are final); empty bars repeat the previous
 * close; trades whose id is not above the last accepted one are dropped and counted; an id jump is
 * recorded in {@link JsBarAggregator.gaps} and the trade still applied.
 */
export class JsBarAggregator {
  readonly symbol: string;
  /** Id gaps seen, oldest first; the caller may empty the array after backfilling. */
  readonly gaps: JsIdGap[] = [];
  readonly #series: Series[];
  #lastId: number | undefined;
  readonly #stats: JsAggregatorStats = {
    accepted: 0,
    duplicates: 0,
    late: 0,
    gaps: 0,
    missingIds: 0,
    outOfWindow: 0,
    rejected: 0,
  };

  /** `intervals` must have fixed lengths, each listed once; closed bars come in this order. */
  constructor(symbol: string, intervals: readonly JsIntervalName[] = AGGREGATED_INTERVALS) {
    if (intervals.length === 0) throw new Error('the aggregator needs at least one interval');
    this.symbol = symbol;
    this.#series = intervals.map((interval) => {
      const lengthMs = fixedIntervalMs(interval);
      if (lengthMs === undefined) throw new Error(`interval ${interval} has no fixed length`);
      return { interval, lengthMs, bar: undefined };
    });
    if (new Set(intervals).size !== intervals.length) throw new Error('an interval is listed twice');
  }

  /**
   * Parses one raw `aggTrade` message (plain or combined-stream envelope) and applies it. Returns
   * the bars it closed (empty bars included), interval by interval, each in time order. Malformed
   * or refused trades throw.
   */
  pushMessage(message: string): JsBar[] {
    return this.push(parseAggTradeMessage(message));
  }

  /** Applies one parsed trade; see {@link JsBarAggregator.pushMessage}. */
  push(trade: JsAggTrade): JsBar[] {
    const last = this.#lastId;
    if (last !== undefined && trade.id <= last) {
      if (trade.id === last) this.#stats.duplicates += 1;
      else this.#stats.late += 1;
      return [];
    }
    const time = trade.tradeTime;
    const refusal =
      trade.symbol !== this.symbol
        ? `trade ${trade.id} is for ${trade.symbol}, the aggregator serves ${this.symbol}`
        : !(time >= 0 && time <= MAX_TRADE_TIME_MS)
          ? `trade ${trade.id}: time ${time} is outside 1970..9999`
          : this.#jumpError(time);
    if (refusal !== undefined) {
      this.#stats.rejected += 1;
      throw new Error(refusal);
    }
    const notional = trade.price * trade.quantity;
    const trades = trade.lastTradeId - trade.firstTradeId + 1;
    const closed: JsBar[] = [];
    let outOfWindow = false;
    for (const series of this.#series) {
      const bar = series.bar;
      if (bar === undefined) {
        series.bar = firstBar(series, barOpenTime(series.interval, time), trade, notional, trades);
      } else if (time < bar.openTime + series.lengthMs) {
        if (time < bar.openTime) outOfWindow = true;
        if (bar.aggTrades === 0) series.bar = firstBar(series, bar.openTime, trade, notional, trades);
        else addTrade(bar, trade, notional, trades);
      } else {
        const openTime = barOpenTime(series.interval, time);
        closeThrough(series, bar, openTime, closed);
        series.bar = firstBar(series, openTime, trade, notional, trades);
      }
    }
    if (last !== undefined && trade.id > last + 1) {
      const gap = { firstMissing: last + 1, lastMissing: trade.id - 1 };
      this.gaps.push(gap);
      this.#stats.gaps += 1;
      this.#stats.missingIds += gap.lastMissing - gap.firstMissing + 1;
    }
    this.#lastId = trade.id;
    this.#stats.accepted += 1;
    if (outOfWindow) this.#stats.outOfWindow += 1;
    return closed;
  }

  /**
   * Closes every bar whose window ended at or before `nowMs` (exchange time), empty bars
   * included; the current bar of each interval then is the (possibly empty) bar containing `nowMs`.
   */
  advanceTo(nowMs: number): JsBar[] {
    const jump = this.#jumpError(nowMs);
    if (jump !== undefined) throw new Error(jump);
    const closed: JsBar[] = [];
    for (const series of this.#series) {
      const bar = series.bar;
      if (bar !== undefined && nowMs >= bar.openTime + series.lengthMs) {
        const openTime = barOpenTime(series.interval, nowMs);
        const lastClosed = closeThrough(series, bar, openTime, closed);
        series.bar = emptyBarAfter(lastClosed, series.lengthMs, openTime);
      }
    }
    return closed;
  }

  /** A copy of the current, still-open bar of `interval`; undefined before the first trade. */
  openBar(interval: JsIntervalName): JsBar | undefined {
    const bar = this.#series.find((s) => s.interval === interval)?.bar;
    return bar === undefined ? undefined : withDerived({ ...bar });
  }

  /** The id of the last applied trade. */
  get lastId(): number | undefined {
    return this.#lastId;
  }

  /** Counters since the aggregator was built (a copy). */
  stats(): JsAggregatorStats {
    return { ...this.#stats };
  }

  /** Why moving every series to `time` would close too many bars at once, or undefined. */
  #jumpError(time: number): string | undefined {
    for (const series of this.#series) {
      const bar = series.bar;
      if (bar !== undefined && Math.floor((time - bar.openTime) / series.lengthMs) > JS_MAX_BARS_PER_STEP) {
        return `time jumps from the ${series.interval} bar at ${bar.openTime} to ${time}: more than ${JS_MAX_BARS_PER_STEP} bars at once`;
      }
    }
    return undefined;
  }
}

/** Adds a trade to a bar that already holds trades. */
function addTrade(bar: JsBar, trade: JsAggTrade, notional: number, trades: number): void {
  const price = trade.price;
  if (price > bar.high) bar.high = price;
  if (price < bar.low) bar.low = price;
  bar.close = price;
  bar.volume += trade.quantity;
  bar.quoteVolume += notional;
  bar.trades += trades;
  if (!trade.buyerIsMaker) {
    bar.takerBuyVolume += trade.quantity;
    bar.takerBuyQuoteVolume += notional;
  }
  bar.lastTradeId = trade.lastTradeId;
  if (trade.eventTime > bar.asOf) bar.asOf = trade.eventTime;
  bar.aggTrades += 1;
}

/**
 * Closes `bar` and the empty bars after it up to (not including) the bar opening at `nextOpen`,
 * appending them to `closed`. Returns the last bar closed.
 */
function closeThrough(series: Series, bar: JsBar, nextOpen: number, closed: JsBar[]): JsBar {
  let current = bar;
  for (;;) {
    current.closed = true;
    closed.push(withDerived(current));
    const open = current.openTime + series.lengthMs;
    if (open >= nextOpen) return current;
    current = emptyBarAfter(current, series.lengthMs, open);
  }
}
