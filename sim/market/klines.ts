// Klines of one symbol for every Binance interval: the generated history joined to the live bars.
import type { IntervalName } from '../../ts/native/interval.js';
import { intervalOpenTime } from '../../ts/native/interval.js';
import type { HistoryModel } from './history/history-model.js';
import { combineBars, emptyBar, type IntBar } from './int-bar.js';
import { type FixedInterval, INTERVAL_MS, type LiveBars } from './live-bars.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Which bars a GET /fapi/v1/klines request selects. */
export interface KlineQuery {
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly limit: number;
}

/** A bar and whether its window has ended. */
export interface BarAt {
  readonly bar: IntBar;
  readonly closed: boolean;
}

function nextMonth(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function previousMonth(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
}

/** End (exclusive) of the bar of `interval` opened at `openTime`. */
export function barEnd(interval: IntervalName, openTime: number): number {
  return interval === '1M' ? nextMonth(openTime) : openTime + INTERVAL_MS[interval];
}

/**
 * The klines of one symbol. A bar before the live start comes from the history model; the bar
 * holding the live start joins the history's part of it to the live part; later bars are the live
 * market's (the native aggregator's, over the exact aggTrade messages published). A window without
 * a trade is the empty bar Binance shows, at the previous close. `1M` bars are folded from days.
 */
export class SymbolKlines {
  readonly #history: HistoryModel;
  readonly #live: LiveBars;
  /** Where the live market starts (the history's end). */
  readonly liveStart: number;
  #lastTicks: number;
  #lastTime: number;

  constructor(history: HistoryModel, live: LiveBars, startTicks: number) {
    this.#history = history;
    this.#live = live;
    this.liveStart = history.end;
    this.#lastTicks = startTicks;
    this.#lastTime = history.end;
  }

  /** Records the latest live trade price (for empty bars after it). */
  noteTrade(ticks: number, time: number): void {
    this.#lastTicks = ticks;
    this.#lastTime = Math.max(this.#lastTime, time);
  }

  /** First open time any interval can serve (the history's start, or the live start without one). */
  get firstTime(): number {
    return this.#history.isEmpty ? this.liveStart : this.#history.start;
  }

  /** The bar of `interval` opened at `openTime`, joined from history and live parts. */
  bar(interval: IntervalName, openTime: number, now: number): BarAt | undefined {
    const end = barEnd(interval, openTime);
    if (end <= this.firstTime || openTime > now) return undefined;
    const closed = end <= now;
    if (end <= this.liveStart) {
      const bar = this.#history.aggregate(openTime, end);
      return bar === undefined ? undefined : { bar: { ...bar, openTime, closeTime: end - 1 }, closed };
    }
    const past = openTime < this.liveStart ? this.#history.aggregate(openTime, this.liveStart) : undefined;
    // Live bars are kept for the last LIVE_BARS_KEPT windows of each interval; older ones are gone.
    if (this.#live.forgot(interval === '1M' ? '1d' : interval, interval === '1M' ? end - 1 : openTime))
      return undefined;
    const live =
      interval === '1M' ? this.#liveMonth(openTime, end, now) : this.#live.bar(interval, openTime)?.bar;
    const bar =
      combineBars(past, live, openTime, end - 1) ??
      emptyBar(this.#priceBefore(openTime), openTime, end - 1, Math.min(now, end - 1));
    return { bar, closed };
  }

  /** Bars for a REST request, oldest first (Binance's selection: from startTime, else the latest). */
  bars(interval: IntervalName, now: number, query: KlineQuery): BarAt[] {
    const step = (t: number): number => (interval === '1M' ? nextMonth(t) : t + INTERVAL_MS[interval]);
    const back = (t: number): number => (interval === '1M' ? previousMonth(t) : t - INTERVAL_MS[interval]);
    const current = intervalOpenTime(interval, now);
    const earliest = intervalOpenTime(interval, this.firstTime);
    const last =
      query.endTime === undefined ? current : Math.min(current, intervalOpenTime(interval, query.endTime));
    const out: BarAt[] = [];
    if (query.startTime !== undefined) {
      let open = Math.max(earliest, intervalOpenTime(interval, query.startTime));
      if (open < query.startTime) open = step(open);
      for (; open <= last && out.length < query.limit; open = step(open)) {
        const bar = this.bar(interval, open, now);
        if (bar !== undefined) out.push(bar);
      }
      return out;
    }
    for (let open = last; open >= earliest && out.length < query.limit; open = back(open)) {
      const bar = this.bar(interval, open, now);
      if (bar !== undefined) out.push(bar);
    }
    return out.reverse();
  }

  /**
   * Everything that traded in `[from, now]` (`from` on a minute boundary) as one bar: the history's
   * part, then live hour bars where whole hours fit and live minute bars at the edges.
   */
  aggregate(from: number, now: number): IntBar | undefined {
    let bar = this.#history.aggregate(from, Math.min(this.liveStart, now));
    let t = Math.max(from, this.liveStart);
    while (t <= now) {
      const wholeHour = t % HOUR === 0 && t + HOUR <= now;
      const interval: FixedInterval = wholeHour ? '1h' : '1m';
      const part = this.#live.bar(interval, t)?.bar;
      if (part !== undefined && part.trades > 0) bar = combineBars(bar, part, from, now);
      t += wholeHour ? HOUR : MINUTE;
    }
    return bar === undefined ? undefined : { ...bar, openTime: from, closeTime: now };
  }

  /** The live days of a month as one bar (the aggregator builds fixed-length bars only). */
  #liveMonth(openTime: number, end: number, now: number): IntBar | undefined {
    let bar: IntBar | undefined;
    const firstDay = Math.max(openTime, intervalOpenTime('1d', this.liveStart));
    for (let day = firstDay; day < end && day <= now; day += INTERVAL_MS['1d']) {
      const part = this.#live.bar('1d', day)?.bar;
      if (part !== undefined && part.trades > 0) bar = combineBars(bar, part, openTime, end - 1);
    }
    return bar;
  }

  /** The last price before `time`: the live market's when it has traded by then, else the history's end. */
  #priceBefore(time: number): number {
    return time >= this.#lastTime ? this.#lastTicks : this.#history.ticksAt(this.liveStart);
  }
}
