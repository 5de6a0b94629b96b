// Pure-TypeScript merge book: the native MergeBook's rules over JSON.parse'd, Number-converted records.
import {
  type JsKlineEvent,
  parseAccountUpdate,
  parseBookTickerMessage,
  parseKlineMessage,
  parseRestKlines,
} from './binance-json.js';
import { barCloseTime, barOpenTime, type JsIntervalName } from './interval.js';
import type {
  JsBalance,
  JsDelta,
  JsKline,
  JsPosition,
  JsPositionSide,
  JsSnapshot,
  JsTick,
} from './records.js';

/** Bars kept per `(symbol, interval)` unless configured otherwise (the native default). */
export const JS_KLINE_WINDOW = 45;

/** What merging one record did. */
export type JsMergeOutcome = 'changed' | 'unchanged' | 'dropped';

/** Outcomes of a message that carries several records. */
export interface JsMergeCounts {
  changed: number;
  unchanged: number;
  dropped: number;
}

/** Counters for one entity kind, named as the native `KindStatsObject`. */
export interface JsKindStats {
  applied: number;
  unchanged: number;
  droppedOlder: number;
  ignoredClosed: number;
  ignoredNotMoreTrades: number;
  outsideWindow: number;
  rejectedInvalid: number;
  tickCorrections: number;
}

/** Counters of everything merged so far, per entity kind. */
export interface JsMergeStats {
  klines: JsKindStats;
  ticks: JsKindStats;
  positions: JsKindStats;
  balances: JsKindStats;
}

/** The detailed result of one merge, before it is collapsed into a {@link JsMergeOutcome}. */
type MergeResult = 'changed' | 'unchanged' | 'notNewer' | 'closed' | 'notMoreTrades' | 'outsideWindow';

function emptyStats(): JsKindStats {
  return {
    applied: 0,
    unchanged: 0,
    droppedOlder: 0,
    ignoredClosed: 0,
    ignoredNotMoreTrades: 0,
    outsideWindow: 0,
    rejectedInvalid: 0,
    tickCorrections: 0,
  };
}

function record(stats: JsKindStats, result: MergeResult): JsMergeOutcome {
  switch (result) {
    case 'changed':
      stats.applied += 1;
      return 'changed';
    case 'unchanged':
      stats.unchanged += 1;
      return 'unchanged';
    case 'notNewer':
      stats.droppedOlder += 1;
      return 'dropped';
    case 'closed':
      stats.ignoredClosed += 1;
      return 'dropped';
    case 'notMoreTrades':
      stats.ignoredNotMoreTrades += 1;
      return 'dropped';
    case 'outsideWindow':
      stats.outsideWindow += 1;
      return 'dropped';
  }
}

function count(counts: JsMergeCounts, outcome: JsMergeOutcome): void {
  counts[outcome] += 1;
}

/**
 * A value whose sources report different subsets of optional fields, with what is needed to merge
 * records in any arrival order as if they had arrived in exchange-time order (see `merge_book.rs`).
 */
interface Carried<T> {
  value: T;
  /** Exchange time of the record each optional field's value came from. */
  fieldTimes: number[];
  /** Exchange time of the newest record whose amount differs from `value`'s; -Infinity if none. */
  amountChangedAt: number;
}

/** How to read and rebuild the optional fields of a carried record kind. */
interface CarriedKind<T extends { updateTime: number }> {
  amount(value: T): number;
  fields(value: T): (number | null)[];
  /** A copy of `value` with these optional fields. */
  withFields(value: T, fields: (number | null)[]): T;
  equal(a: T, b: T): boolean;
}

const POSITION_KIND: CarriedKind<JsPosition> = {
  amount: (p) => p.amount,
  fields: (p) => [p.entryPrice, p.breakEvenPrice, p.unrealizedPnl, p.markPrice, p.isolatedWallet],
  withFields: (p, [entryPrice, breakEvenPrice, unrealizedPnl, markPrice, isolatedWallet]) => ({
    side: p.side,
    amount: p.amount,
    entryPrice: entryPrice ?? null,
    breakEvenPrice: breakEvenPrice ?? null,
    unrealizedPnl: unrealizedPnl ?? null,
    markPrice: markPrice ?? null,
    isolatedWallet: isolatedWallet ?? null,
    updateTime: p.updateTime,
  }),
  equal: (a, b) =>
    a.side === b.side &&
    a.amount === b.amount &&
    a.entryPrice === b.entryPrice &&
    a.breakEvenPrice === b.breakEvenPrice &&
    a.unrealizedPnl === b.unrealizedPnl &&
    a.markPrice === b.markPrice &&
    a.isolatedWallet === b.isolatedWallet &&
    a.updateTime === b.updateTime,
};

const BALANCE_KIND: CarriedKind<JsBalance> = {
  amount: (b) => b.walletBalance,
  fields: (b) => [b.crossWalletBalance, b.availableBalance, b.unrealizedPnl],
  withFields: (b, [crossWalletBalance, availableBalance, unrealizedPnl]) => ({
    asset: b.asset,
    walletBalance: b.walletBalance,
    crossWalletBalance: crossWalletBalance ?? null,
    availableBalance: availableBalance ?? null,
    unrealizedPnl: unrealizedPnl ?? null,
    updateTime: b.updateTime,
  }),
  equal: (a, b) =>
    a.asset === b.asset &&
    a.walletBalance === b.walletBalance &&
    a.crossWalletBalance === b.crossWalletBalance &&
    a.availableBalance === b.availableBalance &&
    a.unrealizedPnl === b.unrealizedPnl &&
    a.updateTime === b.updateTime,
};

function carry<T extends { updateTime: number }>(value: T, kind: CarriedKind<T>): Carried<T> {
  return {
    value,
    fieldTimes: kind.fields(value).map(() => value.updateTime),
    amountChangedAt: Number.NEGATIVE_INFINITY,
  };
}

/**
 * The newest record by exchange time wins, ties keep the first; an optional field the newest record
 * lacks is carried from records of the same amount and cleared across an amount change, evaluated in
 * exchange-time order whatever the arrival order.
 */
function mergeCarried<T extends { updateTime: number }>(
  stored: Carried<T>,
  incoming: T,
  kind: CarriedKind<T>,
): MergeResult {
  const time = incoming.updateTime;
  const storedTime = stored.value.updateTime;
  const sameAmount = kind.amount(incoming) === kind.amount(stored.value);
  const reported = kind.fields(incoming);
  const before = kind.fields(stored.value);
  const times = stored.fieldTimes;
  if (time > storedTime) {
    let fields = before;
    if (sameAmount) {
      reported.forEach((value, i) => {
        if (value !== null) {
          fields[i] = value;
          times[i] = time;
        }
      });
    } else {
      stored.amountChangedAt = storedTime;
      fields = reported;
      times.fill(time);
    }
    stored.value = kind.withFields(incoming, fields);
    return 'changed';
  }
  if (time === storedTime && kind.equal(incoming, stored.value)) return 'unchanged';
  const fields = before.slice();
  if (time > stored.amountChangedAt) {
    if (sameAmount) {
      // A tie or an older record of the current amount fills fields the stored value lacks or holds
      // from an even older record; ties keep the first's values.
      reported.forEach((value, i) => {
        if (value !== null && (fields[i] === null || (times[i] ?? time) < time)) {
          fields[i] = value;
          times[i] = time;
        }
      });
    } else if (time < storedTime) {
      // An older record of another amount: fields reported at or before it are stale.
      stored.amountChangedAt = time;
      times.forEach((at, i) => {
        if (at <= time) fields[i] = null;
      });
    }
  }
  if (fields.every((value, i) => value === before[i])) return 'notNewer';
  stored.value = kind.withFields(stored.value, fields);
  return 'changed';
}

/** Why a kline is refused, or undefined for a bar every real exchange bar satisfies. */
function klineDefect(interval: JsIntervalName, k: JsKline): string | undefined {
  const expected = barOpenTime(interval, k.openTime);
  if (expected !== k.openTime) return `open time is not on an interval boundary (expected ${expected})`;
  if (k.closeTime <= k.openTime) return 'close time is not after the open time';
  if (k.closeTime > barCloseTime(interval, k.openTime))
    return "close time is past the bar's last millisecond";
  if (k.high < k.low) return 'high is below low';
  if (k.open > k.high || k.open < k.low) return 'open is outside [low, high]';
  if (k.close > k.high || k.close < k.low) return 'close is outside [low, high]';
  if (!(k.low > 0)) return 'low price is not positive';
  if (k.volume < 0 || k.quoteVolume < 0 || k.takerBuyVolume < 0 || k.takerBuyQuoteVolume < 0) {
    return 'a volume is negative';
  }
  if (k.takerBuyVolume > k.volume || k.takerBuyQuoteVolume > k.quoteVolume) {
    return "taker buy volume exceeds the bar's volume";
  }
  if (k.firstTradeId !== null && k.lastTradeId !== null && k.firstTradeId > k.lastTradeId) {
    return 'first trade id is after the last trade id';
  }
  return undefined;
}

/** Why a tick is refused, or undefined. A side may be empty (price 0). */
function tickDefect(t: JsTick): string | undefined {
  if (t.bid < 0 || t.ask < 0) return 'bid or ask price is negative';
  if (t.bidQty < 0 || t.askQty < 0) return 'bid or ask quantity is negative';
  if (t.last !== null && !(t.last > 0)) return 'last trade price is not positive';
  if (t.bid > 0 && t.ask > 0 && t.bid > t.ask) return 'bid is above ask';
  return undefined;
}

/** Every field equal (the exchange's final word compared with what the book holds). */
function equalBars(a: JsKline, b: JsKline): boolean {
  return (
    a.asOf === b.asOf && a.firstTradeId === b.firstTradeId && a.lastTradeId === b.lastTradeId && sameBar(a, b)
  );
}

/** Two versions say the same about the market: `asOf` ignored, trade ids only where both have them. */
function sameBar(a: JsKline, b: JsKline): boolean {
  return (
    a.openTime === b.openTime &&
    a.closeTime === b.closeTime &&
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.close === b.close &&
    a.volume === b.volume &&
    a.quoteVolume === b.quoteVolume &&
    a.trades === b.trades &&
    a.takerBuyVolume === b.takerBuyVolume &&
    a.takerBuyQuoteVolume === b.takerBuyQuoteVolume &&
    a.closed === b.closed &&
    (a.firstTradeId === null || b.firstTradeId === null || a.firstTradeId === b.firstTradeId) &&
    (a.lastTradeId === null || b.lastTradeId === null || a.lastTradeId === b.lastTradeId)
  );
}

function equalTicks(a: JsTick, b: JsTick): boolean {
  return (
    a.bid === b.bid &&
    a.bidQty === b.bidQty &&
    a.ask === b.ask &&
    a.askQty === b.askQty &&
    a.last === b.last &&
    a.time === b.time &&
    a.updateId === b.updateId
  );
}

/** A later exchange time, or the same time with a larger book update id when both carry one. */
function tickIsNewer(incoming: JsTick, stored: JsTick): boolean {
  if (incoming.time !== stored.time) return incoming.time > stored.time;
  return incoming.updateId !== null && stored.updateId !== null && incoming.updateId > stored.updateId;
}

/** Whether a tick carries a book; one with only a traded price (`ticker/price`) does not. */
function hasBook(t: JsTick): boolean {
  return t.bid !== 0 || t.ask !== 0 || t.bidQty !== 0 || t.askQty !== 0;
}

/** Whether two ticks carry the same book (prices, quantities, time, update id). */
function sameBook(a: JsTick, b: JsTick): boolean {
  return equalTicks({ ...a, last: null }, { ...b, last: null });
}

/** Index of the bar opening at `openTime` (found), or where it would be inserted. */
function search(series: readonly JsKline[], openTime: number): { index: number; found: boolean } {
  let low = 0;
  let high = series.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const bar = series[middle];
    if (bar === undefined || bar.openTime >= openTime) high = middle;
    else low = middle + 1;
  }
  return { index: low, found: series[low]?.openTime === openTime };
}

/** Everything the book holds for one symbol. */
interface SymbolBook {
  /** Bars of each interval, oldest first, at most the window. */
  klines: Map<JsIntervalName, JsKline[]>;
  tick: JsTick | undefined;
  /** Exchange time of the stored tick's `last` (the tick's own time is its book's). */
  lastTime: number | undefined;
  positions: Map<JsPositionSide, Carried<JsPosition>>;
}

/**
 * The hub's merge book in pure TypeScript, with the native `MergeBook`'s rules (`merge_book.rs`):
 * klines by `(symbol, interval, openTime)` in a window per series (a closed bar is final; between
 * open versions the one with more `(trades, volume)` wins, high only rising and low only falling; a
 * newer tick inside the newest open bar corrects its close/high/low), ticks by newest exchange time
 * (update id breaks ties), positions per `(symbol, side)` and balances per asset by newest update
 * time (ties keep the first). Every real change appends a {@link JsDelta} to the caller's array;
 * stored records are never changed after they were emitted, except a kline's `asOf`, which a tick
 * advances silently when it confirms the bar without changing a price.
 */
export class JsMergeBook {
  readonly #out: JsDelta[];
  readonly #window: number;
  readonly #symbols = new Map<string, SymbolBook>();
  readonly #balances = new Map<string, Carried<JsBalance>>();
  readonly #stats: JsMergeStats = {
    klines: emptyStats(),
    ticks: emptyStats(),
    positions: emptyStats(),
    balances: emptyStats(),
  };

  /** Deltas are appended to `out`; the caller empties it after sending them. */
  constructor(out: JsDelta[], klineWindow: number = JS_KLINE_WINDOW) {
    if (!(Number.isSafeInteger(klineWindow) && klineWindow >= 1)) {
      throw new Error(`kline window must be a whole number of bars >= 1, got ${klineWindow}`);
    }
    this.#out = out;
    this.#window = klineWindow;
  }

  /** Parses a websocket `kline` message and merges its bar. */
  mergeKlineMessage(message: string): JsMergeOutcome {
    const event: JsKlineEvent = parseKlineMessage(message);
    return this.mergeKline(event.symbol, event.interval, event.kline);
  }

  /** Parses a websocket `bookTicker` message and merges its tick. */
  mergeBookTickerMessage(message: string): JsMergeOutcome {
    const { symbol, tick } = parseBookTickerMessage(message);
    return this.mergeTick(symbol, tick);
  }

  /** Parses a user-data `ACCOUNT_UPDATE` and merges its positions, then its balances. */
  mergeAccountUpdate(message: string): JsMergeCounts {
    const update = parseAccountUpdate(message);
    const counts: JsMergeCounts = { changed: 0, unchanged: 0, dropped: 0 };
    for (const { symbol, position } of update.positions) count(counts, this.mergePosition(symbol, position));
    for (const balance of update.balances) count(counts, this.mergeBalance(balance));
    return counts;
  }

  /**
   * Parses a `GET /fapi/v1/klines` body of `(symbol, interval)` and merges its bars. Every bar is
   * checked first: if any is invalid, none is merged and the first one's defect is thrown.
   */
  mergeRestKlines(
    body: string,
    symbol: string,
    interval: JsIntervalName,
    serverTimeMs: number,
  ): JsMergeCounts {
    const klines = parseRestKlines(body, serverTimeMs);
    let firstDefect: string | undefined;
    for (const kline of klines) {
      const defect = klineDefect(interval, kline);
      if (defect !== undefined) {
        this.#stats.klines.rejectedInvalid += 1;
        firstDefect ??= `invalid ${interval} kline of ${symbol} opening at ${kline.openTime}: ${defect}`;
      }
    }
    if (firstDefect !== undefined) throw new Error(firstDefect);
    const counts: JsMergeCounts = { changed: 0, unchanged: 0, dropped: 0 };
    const series = this.#series(symbol, interval);
    for (const kline of klines) {
      count(counts, record(this.#stats.klines, this.#mergeIntoSeries(symbol, interval, series, kline)));
    }
    return counts;
  }

  /** Merges one bar of `(symbol, interval)`; the book keeps `kline` itself (it may adjust it). */
  mergeKline(symbol: string, interval: JsIntervalName, kline: JsKline): JsMergeOutcome {
    const defect = klineDefect(interval, kline);
    if (defect !== undefined) {
      this.#stats.klines.rejectedInvalid += 1;
      throw new Error(`invalid ${interval} kline of ${symbol} opening at ${kline.openTime}: ${defect}`);
    }
    const series = this.#series(symbol, interval);
    return record(this.#stats.klines, this.#mergeIntoSeries(symbol, interval, series, kline));
  }

  /**
   * Merges a tick as the native book does: the book (bid/ask) and the traded price (`last`) each
   * newest by their own time; only a newer traded price corrects the newest open bar of every
   * interval whose span contains its time. Bid, ask and midpoint never enter a bar.
   */
  mergeTick(symbol: string, tick: JsTick): JsMergeOutcome {
    const defect = tickDefect(tick);
    if (defect !== undefined) {
      this.#stats.ticks.rejectedInvalid += 1;
      throw new Error(`invalid tick of ${symbol} at ${tick.time}: ${defect}`);
    }
    const book = this.#book(symbol);
    const stored = book.tick;
    const bookNewer =
      hasBook(tick) && (stored === undefined || !hasBook(stored) || tickIsNewer(tick, stored));
    const price =
      tick.last !== null && (book.lastTime === undefined || tick.time > book.lastTime)
        ? tick.last
        : undefined;
    let result: MergeResult;
    if (!bookNewer && price === undefined) {
      const repeat =
        stored !== undefined &&
        (!hasBook(tick) || sameBook(stored, tick)) &&
        (tick.last === null || (tick.last === stored.last && book.lastTime === tick.time));
      result = repeat ? 'unchanged' : 'notNewer';
    } else {
      let merged: JsTick;
      if (stored !== undefined && !bookNewer) merged = { ...stored };
      else merged = { ...tick, last: stored?.last ?? null };
      if (price !== undefined) merged.last = price;
      const changed = stored === undefined || !equalTicks(stored, merged);
      if (changed) {
        book.tick = merged;
        this.#out.push({ kind: 'tick', symbol, tick: merged });
      }
      if (price !== undefined) {
        book.lastTime = tick.time;
        for (const [interval, series] of book.klines) {
          if (this.#correctNewest(symbol, interval, series, tick.time, price)) {
            this.#stats.klines.tickCorrections += 1;
          }
        }
      }
      result = changed ? 'changed' : 'unchanged';
    }
    return record(this.#stats.ticks, result);
  }

  /** Merges a position, keyed by `(symbol, position.side)`. */
  mergePosition(symbol: string, position: JsPosition): JsMergeOutcome {
    const positions = this.#book(symbol).positions;
    const stored = positions.get(position.side);
    let result: MergeResult;
    let value = position;
    if (stored === undefined) {
      positions.set(position.side, carry(position, POSITION_KIND));
      result = 'changed';
    } else {
      result = mergeCarried(stored, position, POSITION_KIND);
      value = stored.value;
    }
    if (result === 'changed') this.#out.push({ kind: 'position', symbol, position: value });
    return record(this.#stats.positions, result);
  }

  /** Merges a balance, keyed by asset (the wallet balance plays the position amount's part). */
  mergeBalance(balance: JsBalance): JsMergeOutcome {
    const stored = this.#balances.get(balance.asset);
    let result: MergeResult;
    let value = balance;
    if (stored === undefined) {
      this.#balances.set(balance.asset, carry(balance, BALANCE_KIND));
      result = 'changed';
    } else {
      result = mergeCarried(stored, balance, BALANCE_KIND);
      value = stored.value;
    }
    if (result === 'changed') this.#out.push({ kind: 'balance', balance: value });
    return record(this.#stats.balances, result);
  }

  /** The window of `(symbol, interval)`, oldest first; empty when nothing is stored. */
  klines(symbol: string, interval: JsIntervalName): readonly JsKline[] {
    return this.#symbols.get(symbol)?.klines.get(interval) ?? [];
  }

  tick(symbol: string): JsTick | undefined {
    return this.#symbols.get(symbol)?.tick;
  }

  position(symbol: string, side: JsPositionSide): JsPosition | undefined {
    return this.#symbols.get(symbol)?.positions.get(side)?.value;
  }

  balance(asset: string): JsBalance | undefined {
    return this.#balances.get(asset)?.value;
  }

  /** Every entity the book holds (the records themselves, not copies). */
  snapshot(): JsSnapshot {
    const snapshot: JsSnapshot = { klines: [], ticks: [], positions: [], balances: [] };
    for (const [symbol, book] of this.#symbols) {
      for (const [interval, klines] of book.klines) {
        if (klines.length > 0) snapshot.klines.push({ symbol, interval, klines: klines.slice() });
      }
      if (book.tick !== undefined) snapshot.ticks.push({ symbol, tick: book.tick });
      for (const { value } of book.positions.values()) snapshot.positions.push({ symbol, position: value });
    }
    for (const { value } of this.#balances.values()) snapshot.balances.push(value);
    return snapshot;
  }

  /** Counters of everything merged so far (a copy). */
  stats(): JsMergeStats {
    const s = this.#stats;
    return {
      klines: { ...s.klines },
      ticks: { ...s.ticks },
      positions: { ...s.positions },
      balances: { ...s.balances },
    };
  }

  #book(symbol: string): SymbolBook {
    let book = this.#symbols.get(symbol);
    if (book === undefined) {
      book = { klines: new Map(), tick: undefined, lastTime: undefined, positions: new Map() };
      this.#symbols.set(symbol, book);
    }
    return book;
  }

  #series(symbol: string, interval: JsIntervalName): JsKline[] {
    const book = this.#book(symbol);
    let series = book.klines.get(interval);
    if (series === undefined) {
      series = [];
      book.klines.set(interval, series);
    }
    return series;
  }

  #mergeIntoSeries(
    symbol: string,
    interval: JsIntervalName,
    series: JsKline[],
    incoming: JsKline,
  ): MergeResult {
    const length = series.length;
    const last = series[length - 1];
    // Nearly every update is for the newest bar or a new newest bar: check that first.
    let position: { index: number; found: boolean };
    if (last === undefined || last.openTime < incoming.openTime) position = { index: length, found: false };
    else if (last.openTime === incoming.openTime) position = { index: length - 1, found: true };
    else position = search(series, incoming.openTime);
    const { index, found } = position;
    const stored = series[index];
    if (found && stored !== undefined) {
      const result = mergeIntoBar(stored, incoming);
      if (result === 'changed') {
        series[index] = incoming;
        this.#out.push({ kind: 'kline', symbol, interval, kline: incoming });
      }
      return result;
    }
    if (index === 0 && length >= this.#window) return 'outsideWindow';
    if (index === length) series.push(incoming);
    else series.splice(index, 0, incoming);
    if (series.length > this.#window) series.shift();
    this.#out.push({ kind: 'kline', symbol, interval, kline: incoming });
    return 'changed';
  }

  /**
   * Applies a tick at `time` with reference `price` to the newest bar when that bar is open,
   * contains `time` and is not newer than it. Returns whether close, high or low changed.
   */
  #correctNewest(
    symbol: string,
    interval: JsIntervalName,
    series: JsKline[],
    time: number,
    price: number,
  ): boolean {
    const index = series.length - 1;
    const bar = series[index];
    if (bar === undefined || bar.closed || time < bar.openTime || time > bar.closeTime || time < bar.asOf) {
      return false;
    }
    // An empty bar's prices repeat the previous close: the traded price is the first one in it.
    const empty = bar.trades === 0;
    const same = empty
      ? bar.open === price && bar.high === price && bar.low === price && bar.close === price
      : bar.close === price && price <= bar.high && price >= bar.low;
    if (same) {
      bar.asOf = time;
      return false;
    }
    const corrected: JsKline = {
      openTime: bar.openTime,
      closeTime: bar.closeTime,
      open: empty ? price : bar.open,
      high: empty ? price : Math.max(price, bar.high),
      low: empty ? price : Math.min(price, bar.low),
      close: price,
      volume: bar.volume,
      quoteVolume: bar.quoteVolume,
      trades: bar.trades,
      takerBuyVolume: bar.takerBuyVolume,
      takerBuyQuoteVolume: bar.takerBuyQuoteVolume,
      firstTradeId: bar.firstTradeId,
      lastTradeId: bar.lastTradeId,
      closed: false,
      asOf: time,
    };
    series[index] = corrected;
    this.#out.push({ kind: 'kline', symbol, interval, kline: corrected });
    return true;
  }
}

/**
 * The merge rules for a version of a bar the series already holds. On `changed`, `incoming` (with
 * the extremes and `asOf` of `stored` folded in where it is an open version) replaces `stored`.
 */
function mergeIntoBar(stored: JsKline, incoming: JsKline): MergeResult {
  if (stored.closed) return sameBar(stored, incoming) ? 'unchanged' : 'closed';
  // The exchange's final word replaces the open version entirely.
  if (incoming.closed) return equalBars(stored, incoming) ? 'unchanged' : 'changed';
  if (
    incoming.trades > stored.trades ||
    (incoming.trades === stored.trades && incoming.volume > stored.volume)
  ) {
    // A version without trades holds no traded price of its own: the first with trades replaces it.
    if (stored.trades > 0) {
      if (stored.high > incoming.high) incoming.high = stored.high;
      if (stored.low < incoming.low) incoming.low = stored.low;
    }
    if (stored.asOf > incoming.asOf) incoming.asOf = stored.asOf;
    return 'changed';
  }
  return sameBar(stored, incoming) ? 'unchanged' : 'notMoreTrades';
}
