// Pushes every subscribed market stream at Binance's documented speed, building only what is wanted.
import { intervalOpenTime } from '../../ts/native/interval.js';
import type { Json, StreamRoute } from '../contracts.js';
import { barEnd } from './klines.js';
import { isServed, type MarketStream, type MarketStreamKind, type StreamRefusal } from './stream-catalog.js';
import type { SymbolMarket } from './symbol-market.js';
import {
  bookTickerEvent,
  continuousKlineEvent,
  diffDepthEvent,
  forceOrderEvent,
  klineEvent,
  markPriceEvent,
  miniTickerEvent,
  partialDepthEvent,
  tickerEvent,
} from './symbol-views.js';
import type { BookMark } from './synthetic-book.js';

/** The fast tick every cadence is a multiple of. */
export const FAST_TICK_MS = 50;

export interface StreamPublisherOptions {
  readonly markets: () => readonly SymbolMarket[];
  readonly market: (symbol: string) => SymbolMarket | undefined;
  readonly resolve: (name: string) => MarketStream | StreamRefusal;
  readonly emit: (route: StreamRoute, stream: string, payload: Json) => void;
}

/**
 * When each cadence (a multiple of {@link FAST_TICK_MS}) is due. Time is the greater of the ticks
 * counted × 50 ms and the clock's time since the first tick, and a cadence is due on the tick that
 * crosses one of its multiples: while the timer keeps time (or a test steps ticks without moving
 * the clock) it is every `everyMs / 50` ticks, and when the timer runs late on a loaded process the
 * clock catches up, so a 500 ms stream waits for the next 500 ms of the clock, not for ten late
 * ticks (Binance's speeds are wall-clock speeds).
 */
export class FastTickSchedule {
  /** Clock time of tick 0, set by the first tick. */
  #epoch: number | undefined;
  /** Schedule time (ms since tick 0) of the last tick. */
  #elapsed = 0;

  /** Moves to fast tick `tick` at clock time `now`; returns whether a cadence is due on it. */
  advance(tick: number, now: number): (everyMs: number) => boolean {
    let previous = this.#elapsed;
    if (this.#epoch === undefined) {
      this.#epoch = now - tick * FAST_TICK_MS;
      // The first tick is due for what a tick-counting schedule calls due on it.
      previous = (tick - 1) * FAST_TICK_MS;
    }
    const elapsed = Math.max(previous, tick * FAST_TICK_MS, now - this.#epoch);
    this.#elapsed = elapsed;
    return (everyMs) => Math.floor(elapsed / everyMs) > Math.floor(previous / everyMs);
  }
}

/** What a kline stream pushed last: the bar's open time and a signature of its values. */
interface KlineSent {
  openTime: number;
  signature: string;
}

/**
 * Keeps the set of subscribed streams (from the server's demand) grouped by kind, and pushes each
 * at its documented speed: aggTrade and bookTicker in real time (`wants` / `afterTrades`); kline and
 * continuous kline every 250 ms when the bar changed, with the closing update (`x: true`) of a bar
 * when its window ends; depth every 100/250/500 ms when the book changed (diff depth with `U`, `u`,
 * `pu` continuing per stream); mark price every 1 s or 3 s; tickers every 2 s, the all-market arrays
 * every second with the symbols that changed; liquidations every second; all book tickers every
 * 5 s. Per-stream state lives as long as the stream is subscribed. The 250 ms and depth speeds keep
 * to the clock when the tick timer runs late ({@link FastTickSchedule}).
 */
export class StreamPublisher {
  readonly #options: StreamPublisherOptions;
  readonly #schedule = new FastTickSchedule();
  readonly #wanted = new Set<string>();
  #byKind = new Map<MarketStreamKind, MarketStream[]>();
  readonly #klineSent = new Map<string, KlineSent>();
  readonly #depthSent = new Map<string, number>();
  readonly #diffMarks = new Map<string, BookMark>();
  readonly #bookTickerSent = new Map<string, number>();
  readonly #allBookTickerSent = new Map<string, number>();
  readonly #tickerSent = new Map<string, number>();
  readonly #miniTickerSent = new Map<string, number>();

  constructor(options: StreamPublisherOptions) {
    this.#options = options;
  }

  /** Replaces the subscribed streams; state of streams still subscribed is kept. */
  setDemand(names: Iterable<string>): void {
    this.#wanted.clear();
    const byKind = new Map<MarketStreamKind, MarketStream[]>();
    for (const name of names) {
      const stream = this.#options.resolve(name);
      if (!isServed(stream)) continue;
      this.#wanted.add(stream.name);
      let list = byKind.get(stream.kind);
      if (list === undefined) {
        list = [];
        byKind.set(stream.kind, list);
      }
      list.push(stream);
      if (stream.kind === 'diffDepth' && !this.#diffMarks.has(stream.name)) {
        const market = this.#marketOf(stream);
        if (market !== undefined) this.#diffMarks.set(stream.name, market.book.mark());
      }
    }
    this.#byKind = byKind;
    for (const state of [this.#klineSent, this.#depthSent, this.#diffMarks, this.#bookTickerSent]) {
      for (const name of [...state.keys()]) if (!this.#wanted.has(name)) state.delete(name);
    }
  }

  /** Whether a stream is subscribed (for the real-time aggTrade stream). */
  wants(name: string): boolean {
    return this.#wanted.has(name);
  }

  /** After a batch of trades of `market`: its real-time book ticker. */
  afterTrades(market: SymbolMarket, now: number): void {
    const name = `${market.stream}@bookTicker`;
    if (!this.#wanted.has(name) || this.#bookTickerSent.get(name) === market.book.updateId) return;
    this.#bookTickerSent.set(name, market.book.updateId);
    this.#options.emit('public', name, bookTickerEvent(market, now));
  }

  /**
   * Every fast tick (`tick` counts them) at market time `now`: klines every 250 ms, depth at its
   * speeds, kept to `clockNow`, the time of the clock the tick timer runs on (market time runs
   * ahead of it in a max-speed replay, where every tick would be due).
   */
  onFastTick(tick: number, now: number, clockNow: number): void {
    const due = this.#schedule.advance(tick, clockNow);
    if (due(250)) {
      for (const stream of this.#byKind.get('kline') ?? []) this.#pushKline(stream, now, false);
      for (const stream of this.#byKind.get('continuousKline') ?? []) this.#pushKline(stream, now, true);
    }
    for (const stream of this.#byKind.get('partialDepth') ?? []) {
      if (!due(stream.updateMs)) continue;
      const market = this.#marketOf(stream);
      if (market === undefined) continue;
      const previous = this.#depthSent.get(stream.name) ?? -1;
      if (previous === market.book.updateId) continue;
      this.#depthSent.set(stream.name, market.book.updateId);
      this.#options.emit('public', stream.name, partialDepthEvent(market, stream.levels ?? 5, now, previous));
    }
    for (const stream of this.#byKind.get('diffDepth') ?? []) {
      if (!due(stream.updateMs)) continue;
      const market = this.#marketOf(stream);
      const mark = this.#diffMarks.get(stream.name);
      if (market === undefined || mark === undefined || mark.updateId === market.book.updateId) continue;
      this.#options.emit('public', stream.name, diffDepthEvent(market, mark, now));
      this.#diffMarks.set(stream.name, market.book.mark());
    }
  }

  /** Every second (`second` counts them): mark prices, tickers, liquidations, all book tickers. */
  onSecond(second: number, now: number): void {
    const emit = this.#options.emit;
    for (const stream of this.#byKind.get('markPrice') ?? []) {
      if (stream.updateMs === 3_000 && second % 3 !== 0) continue;
      const market = this.#marketOf(stream);
      if (market !== undefined) emit('market', stream.name, markPriceEvent(market, now));
    }
    const allMark = (this.#byKind.get('allMarkPrice') ?? []).filter(
      (s) => s.updateMs === 1_000 || second % 3 === 0,
    );
    if (allMark.length > 0) {
      const payload = this.#options.markets().map((m) => markPriceEvent(m, now));
      for (const stream of allMark) emit('market', stream.name, payload);
    }
    if (second % 2 === 0) {
      for (const stream of this.#byKind.get('ticker') ?? []) {
        const market = this.#marketOf(stream);
        if (market !== undefined) emit('market', stream.name, tickerEvent(market, now));
      }
      for (const stream of this.#byKind.get('miniTicker') ?? []) {
        const market = this.#marketOf(stream);
        if (market !== undefined) emit('market', stream.name, miniTickerEvent(market, now));
      }
    }
    this.#pushChangedArray('allTicker', this.#tickerSent, (m) => tickerEvent(m, now));
    this.#pushChangedArray('allMiniTicker', this.#miniTickerSent, (m) => miniTickerEvent(m, now));
    this.#pushLiquidations(now);
    if (second % 5 === 0) {
      for (const stream of this.#byKind.get('allBookTicker') ?? []) {
        for (const market of this.#options.markets()) {
          if (this.#allBookTickerSent.get(market.spec.symbol) === market.book.updateId) continue;
          this.#allBookTickerSent.set(market.spec.symbol, market.book.updateId);
          emit('public', stream.name, bookTickerEvent(market, now));
        }
      }
    }
  }

  #marketOf(stream: MarketStream): SymbolMarket | undefined {
    return stream.symbol === undefined ? undefined : this.#options.market(stream.symbol);
  }

  /** The current bar of a kline stream when it changed; first the closing update of the bar before. */
  #pushKline(stream: MarketStream, now: number, continuous: boolean): void {
    const market = this.#marketOf(stream);
    const interval = stream.interval;
    if (market === undefined || interval === undefined) return;
    const openTime = intervalOpenTime(interval, now);
    const sent = this.#klineSent.get(stream.name);
    const payload = continuous ? continuousKlineEvent : klineEvent;
    if (sent !== undefined && sent.openTime < openTime) {
      // The bar last pushed has ended: its final state, closed, before the new one.
      const ended = market.klines.bar(
        interval,
        sent.openTime,
        Math.max(now, barEnd(interval, sent.openTime)),
      );
      if (ended !== undefined)
        this.#options.emit('market', stream.name, payload(market, interval, ended.bar, true, now));
    }
    const current = market.klines.bar(interval, openTime, now);
    if (current === undefined) return;
    const b = current.bar;
    const signature = `${b.trades}|${b.close}|${b.volume}|${b.high}|${b.low}`;
    if (sent !== undefined && sent.openTime === openTime && sent.signature === signature) return;
    this.#klineSent.set(stream.name, { openTime, signature });
    this.#options.emit('market', stream.name, payload(market, interval, b, false, now));
  }

  /** An all-market array stream: the symbols whose last trade changed since its last push. */
  #pushChangedArray(
    kind: MarketStreamKind,
    sent: Map<string, number>,
    build: (m: SymbolMarket) => Json,
  ): void {
    const streams = this.#byKind.get(kind) ?? [];
    if (streams.length === 0) return;
    const payload: Json[] = [];
    for (const market of this.#options.markets()) {
      const stamp = market.tape.last()?.a ?? -1;
      if (sent.get(market.spec.symbol) === stamp) continue;
      sent.set(market.spec.symbol, stamp);
      payload.push(build(market));
    }
    if (payload.length === 0) return;
    for (const stream of streams) this.#options.emit('market', stream.name, payload);
  }

  /** The latest liquidation of each symbol in the last second, then forgotten. */
  #pushLiquidations(now: number): void {
    const single = new Set((this.#byKind.get('forceOrder') ?? []).map((s) => s.name));
    const all = this.#byKind.get('allForceOrder') ?? [];
    for (const market of this.#options.markets()) {
      const liquidation = market.pendingLiquidation;
      if (liquidation === undefined) continue;
      market.pendingLiquidation = undefined;
      const name = `${market.stream}@forceOrder`;
      if (!single.has(name) && all.length === 0) continue;
      const payload = forceOrderEvent(market, liquidation, now);
      if (single.has(name)) this.#options.emit('market', name, payload);
      for (const stream of all) this.#options.emit('market', stream.name, payload);
    }
  }
}
