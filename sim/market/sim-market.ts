// The simulator's market: a seeded random walk or a CSV replay, and every Binance view derived from its trades.
import { statSync } from 'node:fs';
import { Decimal } from '../../ts/exact/decimal.js';
import { Logger } from '../../ts/log/logger.js';
import type { BarObject } from '../../ts/native/index.js';
import { INTERVALS } from '../../ts/native/interval.js';
import type {
  BookLevel,
  Endpoint,
  Json,
  MarketStreamListener,
  MarketTrade,
  MarketView,
  SimClock,
  StreamRoute,
  SymbolSpec,
} from '../contracts.js';
import { DEFAULT_SYMBOLS } from '../symbols.js';
import { marketEndpoints } from './market-endpoints.js';
import { Prng } from './prng.js';
import { RandomWalk } from './random-walk.js';
import { AggTradeCsvReplay, type ReplayTrade } from './replay.js';
import { type MarketStream, resolveStream, type StreamRefusal } from './stream-catalog.js';
import { SymbolMarket } from './symbol-market.js';

/** Where trades come from. */
export type MarketSourceConfig =
  | { kind: 'random-walk'; tradesPerSecond?: number }
  | { kind: 'replay'; csvPath: string; symbol: string; speed: number | 'max' };

export interface SimMarketOptions {
  clock: SimClock;
  symbols?: readonly SymbolSpec[];
  source?: MarketSourceConfig;
  seed?: number;
  logger?: Logger;
}

/** A market configuration or call that cannot work (unknown symbol, bad source); names what is wrong. */
export class SimMarketError extends Error {
  override readonly name = 'SimMarketError';
}

const FAST_TICK_MS = 100;
const MARK_TICK_MS = 1000;
const DEFAULT_TRADES_PER_SECOND = 4;
const TAPE_CAPACITY = 100_000;
const KLINE_HISTORY = 2000;
const DEPTH_LEVELS = [5, 10, 20] as const;
/** Partial depth update speeds: stream suffix → push period in fast ticks (the default is 250 ms). */
const DEPTH_SPEEDS = [
  { suffix: '@100ms', everyMs: 100 },
  { suffix: '', everyMs: 250 },
  { suffix: '@500ms', everyMs: 500 },
] as const;

/**
 * The simulated market of the exchange simulator (see the module comment of each part for the
 * model). Trades come from a seeded random walk per symbol, or for one symbol from an aggTrades CSV
 * replay (the other symbols keep walking). Each trade is put on the tape, fed to the klines as the
 * exact aggTrade message streamed, moves the book's touch and reaches `onTrade` listeners; a user's
 * fill from the engine (`recordTakerFill`) goes on the tape the same way but not to the listeners.
 *
 * Market time is the clock's time, or the newest trade's when a `max`-speed replay runs ahead of it.
 * Stream payloads are built only for stream names the server's demand function accepts (none until
 * `setStreamDemand` is called).
 */
export class SimMarket implements MarketView {
  readonly #clock: SimClock;
  readonly #logger: Logger;
  readonly #specs: readonly SymbolSpec[];
  readonly #markets = new Map<string, SymbolMarket>();
  readonly #list: SymbolMarket[] = [];
  readonly #source: MarketSourceConfig;
  readonly #timing: Prng;
  readonly #tradesPerSecond: number;
  readonly #streamListeners = new Set<MarketStreamListener>();
  readonly #tradeListeners = new Set<(trade: MarketTrade) => void>();
  readonly #depthSent = new Map<string, number>();
  readonly #bookTickerSent = new Map<string, number>();
  #wanted: (stream: string) => boolean = () => false;
  #frozenUntil = 0;
  #timers: NodeJS.Timeout[] = [];
  #replay: AggTradeCsvReplay | undefined;
  #markTicks = 0;
  #fastTicks = 0;
  #aggregatorProblems = 0;
  #listenerErrors = 0;

  constructor(options: SimMarketOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger ?? new Logger('sim.market');
    this.#specs = options.symbols ?? DEFAULT_SYMBOLS;
    this.#source = options.source ?? { kind: 'random-walk' };
    const seed = options.seed ?? 1;
    if (this.#specs.length === 0) throw new SimMarketError('the market needs at least one symbol');
    const rate = this.#source.kind === 'random-walk' ? this.#source.tradesPerSecond : undefined;
    this.#tradesPerSecond = rate ?? DEFAULT_TRADES_PER_SECOND;
    if (
      !(
        Number.isFinite(this.#tradesPerSecond) &&
        this.#tradesPerSecond > 0 &&
        this.#tradesPerSecond <= 10_000
      )
    ) {
      throw new SimMarketError(`source.tradesPerSecond must be in (0, 10000], got ${this.#tradesPerSecond}`);
    }
    this.#timing = Prng.derive(seed, 0xffff);
    const now = this.#clock.now();
    this.#specs.forEach((spec, index) => {
      if (this.#markets.has(spec.symbol)) throw new SimMarketError(`symbol ${spec.symbol} is listed twice`);
      const prng = Prng.derive(seed, index);
      const market = new SymbolMarket({
        spec,
        prng,
        now,
        tapeCapacity: TAPE_CAPACITY,
        klineHistory: KLINE_HISTORY,
        firstAggId: 1_000_000 * (index + 1),
        firstTradeId: 3_000_000 * (index + 1),
      });
      market.walk = new RandomWalk(spec, prng, market.book, this.#tradesPerSecond);
      this.#markets.set(spec.symbol, market);
      this.#list.push(market);
    });
    if (this.#source.kind === 'replay') this.#configureReplay(this.#source);
  }

  #configureReplay(source: { csvPath: string; symbol: string; speed: number | 'max' }): void {
    const market = this.#markets.get(source.symbol);
    if (market === undefined)
      throw new SimMarketError(`source.symbol ${source.symbol} is not a listed symbol`);
    try {
      if (!statSync(source.csvPath).isFile())
        throw new SimMarketError(`source.csvPath ${source.csvPath} is not a file`);
    } catch (error) {
      if (error instanceof SimMarketError) throw error;
      throw new SimMarketError(`source.csvPath ${source.csvPath} cannot be read: ${String(error)}`);
    }
    market.walk = undefined;
    try {
      this.#replay = new AggTradeCsvReplay({
        csvPath: source.csvPath,
        speed: source.speed,
        clock: this.#clock,
        logger: this.#logger.child('replay'),
        deliver: (trades) => this.#deliverReplay(market, trades),
        holdUntil: () => this.#frozenUntil,
      });
    } catch (error) {
      throw new SimMarketError(`source.speed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- MarketView -------------------------------------------------------------------------

  specs(): readonly SymbolSpec[] {
    return this.#specs;
  }

  spec(symbol: string): SymbolSpec | undefined {
    return this.#markets.get(symbol)?.spec;
  }

  book(
    symbol: string,
    levels: number,
  ): { readonly bids: readonly BookLevel[]; readonly asks: readonly BookLevel[] } {
    return this.#market(symbol).book.levels(Math.max(0, Math.min(levels, 1000)));
  }

  lastPrice(symbol: string): Decimal {
    return this.#market(symbol).lastPrice();
  }

  markPrice(symbol: string): Decimal {
    return this.#market(symbol).markPrice(this.#now());
  }

  fundingRate(symbol: string): Decimal {
    return this.#market(symbol).funding.rate();
  }

  onTrade(listener: (trade: MarketTrade) => void): () => void {
    this.#tradeListeners.add(listener);
    return () => this.#tradeListeners.delete(listener);
  }

  recordTakerFill(trade: MarketTrade): void {
    const market = this.#market(trade.symbol);
    if (trade.price.sign() <= 0 || trade.qty.sign() <= 0) {
      throw new SimMarketError(`taker fill of ${trade.symbol} needs a positive price and quantity`);
    }
    const price = fixedIfExact(trade.price, Math.max(market.spec.pricePrecision, market.spec.tickSize.scale));
    const qty = fixedIfExact(trade.qty, Math.max(market.spec.quantityPrecision, market.spec.stepSize.scale));
    this.#record(market, price, qty, trade.buyerIsMaker, trade.time, 1, false);
    this.#afterBatch(market);
  }

  // ---- control ----------------------------------------------------------------------------

  onStream(listener: MarketStreamListener): () => void {
    this.#streamListeners.add(listener);
    return () => this.#streamListeners.delete(listener);
  }

  /** A stream name a client sent, resolved to a stream this market serves (or refused with the reason). */
  resolveStream(name: string): MarketStream | StreamRefusal {
    return resolveStream(name, (symbol) => this.#markets.has(symbol));
  }

  /** The server tells the market which stream names have subscribers, so it builds only those payloads. */
  setStreamDemand(isWanted: (stream: string) => boolean): void {
    this.#wanted = isWanted;
  }

  endpoints(): Endpoint[] {
    return marketEndpoints({
      specs: () => this.#specs,
      symbols: () => this.#list,
      symbol: (name) => this.#markets.get(name),
      advance: (now) => {
        for (const market of this.#list) this.#advance(market, Math.max(now, this.#now()));
      },
    });
  }

  /** Starts the timers: trades and kline closes every 100 ms, depth pushes, mark price every second. */
  start(): void {
    if (this.#timers.length > 0) return;
    const fast = setInterval(() => this.#guard('fast tick', () => this.#fastTick()), FAST_TICK_MS);
    const mark = setInterval(() => this.#guard('mark tick', () => this.#markTick()), MARK_TICK_MS);
    fast.unref();
    mark.unref();
    this.#timers = [fast, mark];
    this.#replay?.start();
    this.#logger.info('market started', { symbols: this.#list.length, source: this.#source.kind });
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#replay?.stop();
  }

  /** Stale-data fault: no trades, no stream events until `untilMs`; REST keeps serving the frozen state. */
  freeze(untilMs: number): void {
    this.#frozenUntil = Math.max(this.#frozenUntil, untilMs);
    this.#logger.info('market frozen', { untilMs: this.#frozenUntil });
  }

  /**
   * Deterministic stepping for tests and backtests: make `count` random-walk trades now, for every
   * walking symbol or for one (a replayed symbol cannot be stepped). Does nothing while frozen.
   */
  generateTrades(count: number, symbol?: string): void {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new SimMarketError(`trade count must be ≥ 0, got ${count}`);
    const markets =
      symbol === undefined ? this.#list.filter((m) => m.walk !== undefined) : [this.#market(symbol)];
    for (const market of markets) {
      if (market.walk === undefined) throw new SimMarketError(`${market.spec.symbol} is replayed from a CSV`);
    }
    if (this.#frozen()) return;
    for (const market of markets) this.#walk(market, count);
  }

  // ---- internals --------------------------------------------------------------------------

  #market(symbol: string): SymbolMarket {
    const market = this.#markets.get(symbol);
    if (market === undefined) throw new SimMarketError(`unknown symbol ${symbol}`);
    return market;
  }

  #now(): number {
    let now = this.#clock.now();
    for (const market of this.#list) now = Math.max(now, market.lastTime);
    return now;
  }

  #frozen(): boolean {
    return this.#clock.now() < this.#frozenUntil;
  }

  #guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#logger.error(`market ${what} failed`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #emit(route: StreamRoute, stream: string, payload: Json): void {
    for (const listener of this.#streamListeners) {
      try {
        listener(route, stream, payload);
      } catch (error) {
        this.#listenerErrors += 1;
        this.#logger.error('stream listener threw', {
          stream,
          errors: this.#listenerErrors,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  /** Whether a payload for `stream` should be built now (wanted and not frozen). */
  #wants(stream: string): boolean {
    return this.#streamListeners.size > 0 && !this.#frozen() && this.#wanted(stream);
  }

  #walk(market: SymbolMarket, count: number): void {
    const walk = market.walk;
    if (walk === undefined || count === 0) return;
    const time = this.#clock.now();
    for (let i = 0; i < count; i++) {
      const trade = walk.next(time);
      this.#record(
        market,
        trade.price.toString(),
        trade.qty.toString(),
        trade.buyerIsMaker,
        time,
        trade.fills,
        true,
      );
    }
    this.#afterBatch(market);
  }

  #deliverReplay(market: SymbolMarket, trades: ReplayTrade[]): void {
    const first = trades[0];
    if (first !== undefined) market.adoptIds(first.aggTradeId, first.firstTradeId);
    for (const t of trades) {
      // The touch follows the tape: a taker buy lifted the ask, a taker sell hit the bid.
      market.book.touchAt(Decimal.parse(t.price), t.buyerIsMaker, 1, t.replayTime);
      this.#record(
        market,
        t.price,
        t.quantity,
        t.buyerIsMaker,
        t.replayTime,
        t.lastTradeId - t.firstTradeId + 1,
        true,
      );
    }
    this.#afterBatch(market);
  }

  /** One trade onto the tape (and its stream), then to the engine's listeners when public. */
  #record(
    market: SymbolMarket,
    price: string,
    qty: string,
    buyerIsMaker: boolean,
    time: number,
    fills: number,
    isPublic: boolean,
  ): void {
    const { trade, event } = market.record(price, qty, buyerIsMaker, time, fills);
    const stream = `${market.stream}@aggTrade`;
    if (this.#wants(stream)) this.#emit('market', stream, event);
    if (!isPublic) return;
    const view: MarketTrade = {
      symbol: market.spec.symbol,
      price: Decimal.parse(trade.p),
      qty: Decimal.parse(trade.q),
      time: trade.T,
      buyerIsMaker,
    };
    for (const listener of this.#tradeListeners) {
      try {
        listener(view);
      } catch (error) {
        this.#listenerErrors += 1;
        this.#logger.error('trade listener threw', {
          symbol: view.symbol,
          errors: this.#listenerErrors,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  /** After a batch of trades: klines (with their stream updates) and the book ticker. */
  #afterBatch(market: SymbolMarket): void {
    const result = market.flushKlines();
    const now = this.#now();
    if (result !== undefined) {
      if (result.rejected.length > 0 || result.late > 0 || result.duplicates > 0 || result.gaps.length > 0) {
        this.#aggregatorProblems += 1;
        this.#logger.error('kline aggregator refused market trades', {
          symbol: market.spec.symbol,
          rejected: result.rejected.length,
          late: result.late,
          duplicates: result.duplicates,
          gaps: result.gaps.length,
          problems: this.#aggregatorProblems,
        });
      }
      this.#emitClosed(market, result.closed, now);
      for (const interval of INTERVALS) {
        const stream = `${market.stream}@kline_${interval}`;
        if (!this.#wants(stream)) continue;
        const bar = market.klines.current(interval, now);
        if (bar !== undefined) this.#emit('market', stream, market.klineEvent(interval, bar, now));
      }
    }
    this.#pushBookTicker(market, now);
  }

  #emitClosed(market: SymbolMarket, closed: BarObject[], now: number): void {
    for (const bar of closed) {
      const stream = `${market.stream}@kline_${bar.interval}`;
      if (this.#wants(stream)) {
        this.#emit(
          'market',
          stream,
          market.klineEvent(bar.interval as (typeof INTERVALS)[number], bar.kline, now),
        );
      }
    }
  }

  /** Closes finished bars of `market` up to `now` and streams them. */
  #advance(market: SymbolMarket, now: number): void {
    if (!market.hasTraded()) return;
    market.flushKlines();
    this.#emitClosed(market, market.klines.advance(now), now);
  }

  #pushBookTicker(market: SymbolMarket, now: number): void {
    if (this.#bookTickerSent.get(market.spec.symbol) === market.book.updateId) return;
    const one = `${market.stream}@bookTicker`;
    const wantOne = this.#wants(one);
    const wantAll = this.#wants('!bookTicker');
    if (!wantOne && !wantAll) return;
    this.#bookTickerSent.set(market.spec.symbol, market.book.updateId);
    const payload = market.bookTickerEvent(now);
    if (wantOne) this.#emit('public', one, payload);
    if (wantAll) this.#emit('public', '!bookTicker', payload);
  }

  #fastTick(): void {
    this.#fastTicks += 1;
    if (!this.#frozen()) {
      // Trade arrivals per symbol: Poisson with the configured rate (Knuth's method, bounded).
      const expected = (this.#tradesPerSecond * FAST_TICK_MS) / 1000;
      for (const market of this.#list) {
        if (market.walk === undefined) continue;
        const limit = Math.exp(-expected);
        let count = 0;
        for (let p = this.#timing.next(); p > limit && count < 10_000; p *= this.#timing.next()) count += 1;
        this.#walk(market, count);
      }
    }
    const now = this.#now();
    for (const market of this.#list) this.#advance(market, now);
    const elapsed = this.#fastTicks * FAST_TICK_MS;
    for (const speed of DEPTH_SPEEDS) {
      if (elapsed % speed.everyMs >= FAST_TICK_MS) continue;
      for (const market of this.#list) {
        for (const levels of DEPTH_LEVELS) this.#pushDepth(market, levels, speed.suffix, now);
      }
    }
  }

  #pushDepth(market: SymbolMarket, levels: number, suffix: string, now: number): void {
    const stream = `${market.stream}@depth${levels}${suffix}`;
    const previous = this.#depthSent.get(stream) ?? -1;
    if (previous === market.book.updateId || !this.#wants(stream)) return;
    this.#depthSent.set(stream, market.book.updateId);
    this.#emit('public', stream, market.depthEvent(levels, now, previous));
  }

  #markTick(): void {
    this.#markTicks += 1;
    const now = this.#now();
    const everyThree = this.#markTicks % 3 === 0;
    const all: Json[] = [];
    const allWanted = this.#wants('!markPrice@arr@1s') || (everyThree && this.#wants('!markPrice@arr'));
    for (const market of this.#list) {
      market.funding.tick(market.bid(), market.ask());
      const settled = market.funding.settle(now, market.markPrice(now));
      if (settled > 0) this.#logger.debug('funding settled', { symbol: market.spec.symbol, settled });
      const fast = `${market.stream}@markPrice@1s`;
      const slow = `${market.stream}@markPrice`;
      const wantFast = this.#wants(fast);
      const wantSlow = everyThree && this.#wants(slow);
      if (!wantFast && !wantSlow && !allWanted) continue;
      const payload = market.markPriceEvent(now);
      if (wantFast) this.#emit('market', fast, payload);
      if (wantSlow) this.#emit('market', slow, payload);
      all.push(payload);
    }
    if (allWanted) {
      if (this.#wants('!markPrice@arr@1s')) this.#emit('market', '!markPrice@arr@1s', all);
      if (everyThree && this.#wants('!markPrice@arr')) this.#emit('market', '!markPrice@arr', all);
    }
  }
}

/** `value` at `scale` digits when that is exact, else its own string (a fill is never rounded). */
function fixedIfExact(value: Decimal, scale: number): string {
  const fixed = value.rescale(Math.max(scale, 0), 'down');
  return fixed.eq(value) ? fixed.toString() : value.toString();
}
