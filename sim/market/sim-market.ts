// The simulator's market: a seeded random walk or a CSV replay with a generated past, and every Binance view of it.
import { statSync } from 'node:fs';
import { Decimal } from '../../ts/exact/decimal.js';
import { LogThrottle } from '../../ts/log/log-throttle.js';
import { Logger } from '../../ts/log/logger.js';
import type {
  BookLevel,
  Endpoint,
  Json,
  LiquidationReport,
  MarketStreamListener,
  MarketTrade,
  MarketView,
  RateLimitValues,
  SimClock,
  StreamRoute,
  SymbolSpec,
} from '../contracts.js';
import { RATE_LIMITS } from '../contracts.js';
import { DEFAULT_SYMBOLS } from '../symbols.js';
import { NodeCache } from './history/node-cache.js';
import { marketEndpoints } from './market-endpoints.js';
import { mixHash, Prng } from './prng.js';
import { RandomWalk } from './random-walk.js';
import { AggTradeCsvReplay, firstCsvTrade, type ReplayTrade } from './replay.js';
import { type MarketStream, resolveStream, type StreamRefusal } from './stream-catalog.js';
import { FAST_TICK_MS, StreamPublisher } from './stream-publisher.js';
import { type LiveStart, OffGridTrade, SymbolMarket } from './symbol-market.js';

/** Where trades come from. */
export type MarketSourceConfig =
  | { kind: 'random-walk'; tradesPerSecond?: number }
  | { kind: 'replay'; csvPath: string; symbol: string; speed: number | 'max' };

/** How much past every symbol has (see `HistoryModel`). */
export interface MarketHistoryConfig {
  /**
   * Days of history before the start (rounded back to a month start). Default 46,000: enough for
   * 1,500 bars of every interval, `1M` included.
   */
  readonly days?: number;
}

export interface SimMarketOptions {
  clock: SimClock;
  symbols?: readonly SymbolSpec[];
  source?: MarketSourceConfig;
  seed?: number;
  history?: MarketHistoryConfig;
  /** Share (0..1) of the walk's trades that are other traders' liquidations (the forceOrder streams). */
  liquidationShare?: number;
  /** Live aggTrades kept over all symbols together (older ones drop off the tape). */
  tapeBudget?: number;
  /** The limits exchangeInfo's `rateLimits` states (the server's, which enforces them); Binance's by default. */
  rateLimits?: RateLimitValues;
  logger?: Logger;
}

/** A market configuration or call that cannot work (unknown symbol, bad source); names what is wrong. */
export class SimMarketError extends Error {
  override readonly name = 'SimMarketError';
}

const MARK_TICK_MS = 1000;
const DEFAULT_TRADES_PER_SECOND = 4;
export const DEFAULT_HISTORY_DAYS = 46_000;
export const DEFAULT_LIQUIDATION_SHARE = 0.002;
export const DEFAULT_TAPE_BUDGET = 2_000_000;
const MIN_TAPE = 2_000;
const MAX_TAPE = 100_000;
/** Split history nodes kept over every symbol (about 25 MB). */
const NODE_CACHE_ENTRIES = 4_000;
/** Aggregate trades per minute the history never goes below (room for open/high/low/close). */
const MIN_HISTORY_TRADES_PER_MINUTE = 12;
const DAY_MS = 86_400_000;
/** Mean trade size of the walk, in steps of its base size (its Pareto multiple has mean ≈ 4.3). */
const MEAN_SIZE_MULTIPLE = 4.3;
const MEAN_FILLS = 1.6;
const ANNUAL_VOLATILITY = 0.6;

/**
 * The simulated market of the exchange simulator. Every symbol has a generated past (klines,
 * aggTrades and funding from the first second) ending at the start minute, and from then trades
 * from a seeded random walk or, for one symbol, an aggTrades CSV replay (the other symbols keep
 * walking). Each live trade goes on the tape and, as the exact aggTrade message streamed, into
 * the klines; it moves the book's touch and reaches `onTrade` listeners; a user's fill from the
 * engine (`recordTakerFill`) goes on the tape the same way but not to the listeners.
 *
 * Market time is the clock's time, or the newest trade's when a `max`-speed replay runs ahead of it.
 * Stream payloads are built only for subscribed streams (see {@link StreamPublisher}).
 */
export class SimMarket implements MarketView {
  readonly #clock: SimClock;
  readonly #logger: Logger;
  readonly #specs: readonly SymbolSpec[];
  readonly #rateLimits: RateLimitValues;
  readonly #markets = new Map<string, SymbolMarket>();
  readonly #list: SymbolMarket[] = [];
  readonly #source: MarketSourceConfig;
  readonly #timing: Prng;
  readonly #tradesPerSecond: number;
  readonly #liquidationShare: number;
  readonly #streamListeners = new Set<MarketStreamListener>();
  readonly #tradeListeners = new Set<(trade: MarketTrade) => void>();
  readonly #publisher: StreamPublisher;
  #frozenUntil = 0;
  /** No trades until then (the quiet-market fault); streams go on. */
  #quietUntil = 0;
  /** aggTrade stream messages still to drop per symbol (the `dropAggTrades` fault), and dropped so far. */
  readonly #aggTradeDrops = new Map<string, number>();
  #aggTradesDropped = 0;
  /** Messages still to withhold per stream name (`dropStreamMessages`). */
  readonly #streamDrops = new Map<string, number>();
  #timers: NodeJS.Timeout[] = [];
  #replay: AggTradeCsvReplay | undefined;
  #markTicks = 0;
  #fastTicks = 0;
  #aggregatorProblems = 0;
  /** One aggregator-refusal line per symbol per 10 s (the count keeps the full tally). */
  readonly #aggregatorLog = new LogThrottle();
  #listenerErrors = 0;
  #offGrid = 0;

  constructor(options: SimMarketOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger ?? new Logger('sim.market');
    this.#specs = options.symbols ?? DEFAULT_SYMBOLS;
    this.#rateLimits = options.rateLimits ?? RATE_LIMITS;
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
    this.#liquidationShare = options.liquidationShare ?? DEFAULT_LIQUIDATION_SHARE;
    if (!(this.#liquidationShare >= 0 && this.#liquidationShare <= 1)) {
      throw new SimMarketError(`liquidationShare must be in [0, 1], got ${this.#liquidationShare}`);
    }
    const days = options.history?.days ?? DEFAULT_HISTORY_DAYS;
    if (!Number.isSafeInteger(days) || days < 0 || days > 100_000) {
      throw new SimMarketError(`history.days must be an integer in 0..100000, got ${days}`);
    }
    const budget = options.tapeBudget ?? DEFAULT_TAPE_BUDGET;
    const tapeCapacity = Math.min(MAX_TAPE, Math.max(MIN_TAPE, Math.floor(budget / this.#specs.length)));
    this.#timing = Prng.derive(seed, 0xffff);
    const now = this.#clock.now();
    const historyStart = monthStart(now - days * DAY_MS);
    const minutes = Math.ceil((now - historyStart) / 60_000) + 1;
    // A whole number: the history's ids are counted from it, and a rate such as 10,000 / 600 a second
    // would make every id a fraction (which no client, nor the market's own aggregator, accepts).
    const aggPerMinute = Math.max(MIN_HISTORY_TRADES_PER_MINUTE, Math.round(this.#tradesPerSecond * 60));
    const cache = new NodeCache(NODE_CACHE_ENTRIES);
    const replaySymbol = this.#source.kind === 'replay' ? this.#source.symbol : undefined;
    const replayStart = this.#source.kind === 'replay' ? this.#replayStart(this.#source) : undefined;
    this.#specs.forEach((spec, index) => {
      if (this.#markets.has(spec.symbol)) throw new SimMarketError(`symbol ${spec.symbol} is listed twice`);
      const prng = Prng.derive(seed, index);
      const symbolSeed = mixHash(seed >>> 0, index + 0x5eed);
      // Ids of the live market start above every id the history can use (the history counts down).
      const bound = 8 * aggPerMinute * minutes + 1;
      const start: LiveStart =
        spec.symbol === replaySymbol && replayStart !== undefined
          ? replayStart
          : { price: spec.initialPrice, aggId: bound, tradeId: Math.ceil(bound * 4 * MEAN_FILLS) };
      const unitSteps = RandomWalk.baseSteps(spec);
      const market = new SymbolMarket({
        spec,
        prng,
        seed: symbolSeed,
        index,
        now,
        tapeCapacity,
        start,
        history: {
          startTime: historyStart,
          aggPerMinute:
            spec.symbol === replaySymbol ? fitHistory(start.aggId, minutes, aggPerMinute) : aggPerMinute,
          meanTradeSteps: Number(unitSteps) * MEAN_SIZE_MULTIPLE,
          fillsPerAgg: MEAN_FILLS,
          annualVolatility: ANNUAL_VOLATILITY,
          cache,
        },
      });
      market.walk = new RandomWalk(spec, prng, market.book, this.#tradesPerSecond);
      this.#markets.set(spec.symbol, market);
      this.#list.push(market);
    });
    this.#publisher = new StreamPublisher({
      markets: () => this.#list,
      market: (symbol) => this.#markets.get(symbol),
      resolve: (name) => this.resolveStream(name),
      emit: (route, stream, payload) => this.#emit(route, stream, payload),
    });
    if (this.#source.kind === 'replay') this.#configureReplay(this.#source);
  }

  /** The first trade of the replay file: the live market of its symbol starts there. */
  #replayStart(source: { csvPath: string; symbol: string }): LiveStart | undefined {
    if (!this.#specs.some((s) => s.symbol === source.symbol)) {
      throw new SimMarketError(`source.symbol ${source.symbol} is not a listed symbol`);
    }
    let first: ReturnType<typeof firstCsvTrade>;
    try {
      if (!statSync(source.csvPath).isFile())
        throw new SimMarketError(`source.csvPath ${source.csvPath} is not a file`);
      first = firstCsvTrade(source.csvPath);
    } catch (error) {
      if (error instanceof SimMarketError) throw error;
      throw new SimMarketError(`source.csvPath ${source.csvPath} cannot be read: ${String(error)}`);
    }
    if (first === undefined) return undefined;
    return { price: Decimal.parse(first.price), aggId: first.aggTradeId, tradeId: first.firstTradeId };
  }

  #configureReplay(source: { csvPath: string; symbol: string; speed: number | 'max' }): void {
    const market = this.#markets.get(source.symbol);
    if (market === undefined)
      throw new SimMarketError(`source.symbol ${source.symbol} is not a listed symbol`);
    market.walk = undefined;
    try {
      this.#replay = new AggTradeCsvReplay({
        csvPath: source.csvPath,
        speed: source.speed,
        clock: this.#clock,
        logger: this.#logger.child('replay'),
        deliver: (trades) => this.#deliverReplay(market, trades),
        holdUntil: () => Math.max(this.#frozenUntil, this.#quietUntil),
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
    this.#record(
      market,
      trade.price.toString(),
      trade.qty.toString(),
      trade.buyerIsMaker,
      trade.time,
      1,
      false,
    );
    this.#afterBatch(market);
  }

  recordLiquidation(report: LiquidationReport): void {
    const market = this.#market(report.symbol);
    market.pendingLiquidation = {
      side: report.side,
      price: report.price,
      averagePrice: report.averagePrice,
      qty: report.qty,
      time: report.time,
    };
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

  /**
   * The server tells the market which streams have subscribers, so it builds only those payloads:
   * `wanted` lists them (the predicate form, without a list, is for callers that cannot list).
   */
  setStreamDemand(isWanted: (stream: string) => boolean, wanted?: () => Iterable<string>): void {
    if (wanted !== undefined) {
      this.#publisher.setDemand(wanted());
      return;
    }
    // Without a list every stream of every listed symbol is asked about once.
    this.#publisher.setDemand(this.#allStreamNames().filter(isWanted));
  }

  endpoints(): Endpoint[] {
    return marketEndpoints({
      rateLimits: this.#rateLimits,
      specs: () => this.#specs,
      symbols: () => this.#list,
      symbol: (name) => this.#markets.get(name),
      advance: (now, market) => {
        for (const m of market === undefined ? this.#list : [market])
          m.advanceKlines(Math.max(now, this.#now()));
      },
      now: () => this.#now(),
    });
  }

  /** Starts the timers: trades, kline closes and stream pushes every 50 ms, mark price every second. */
  start(): void {
    if (this.#timers.length > 0) return;
    const fast = setInterval(() => this.#guard('fast tick', () => this.tick()), FAST_TICK_MS);
    const mark = setInterval(() => this.#guard('mark tick', () => this.markTick()), MARK_TICK_MS);
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

  /**
   * Lost-message fault: the next `count` aggTrade stream messages of `symbol` are not sent (0
   * clears), so subscribers see an id gap; the trades still happen (tape, REST aggTrades, klines).
   * False, changing nothing, when the symbol is not listed.
   */
  dropAggTrades(symbol: string, count: number): boolean {
    if (!this.#markets.has(symbol)) return false;
    if (count > 0) this.#aggTradeDrops.set(symbol, count);
    else this.#aggTradeDrops.delete(symbol);
    this.#logger.info('aggTrade stream messages to drop', { symbol, count });
    return true;
  }

  /**
   * Test control: the next `count` messages of the stream named `stream` (as subscribed, e.g.
   * `btcusdt@kline_1m`) are not sent to anyone (0 clears). Nothing else changes: trades, klines
   * and REST go on. For a lost message of a time-driven stream, such as a kline's closing update.
   */
  dropStreamMessages(stream: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new SimMarketError(`message count must be ≥ 0, got ${count}`);
    if (count > 0) this.#streamDrops.set(stream, count);
    else this.#streamDrops.delete(stream);
    this.#logger.info('stream messages to drop', { stream, count });
  }

  clearAggTradeDrops(): void {
    this.#aggTradeDrops.clear();
  }

  /** Drops still to come per symbol, and aggTrade messages dropped so far. */
  aggTradeDrops(): { pending: Record<string, number>; dropped: number } {
    return { pending: Object.fromEntries(this.#aggTradeDrops), dropped: this.#aggTradesDropped };
  }

  /** Stale-data fault: no trades, no stream events until `untilMs`; REST keeps serving the frozen state. */
  freeze(untilMs: number): void {
    this.#frozenUntil = Math.max(this.#frozenUntil, untilMs);
    this.#logger.info('market frozen', { untilMs: this.#frozenUntil });
  }

  /**
   * Quiet-market fault: nothing trades until `untilMs` (a replay waits, shifting its later trades),
   * while the time-driven streams go on as on Binance: `!markPrice@arr@1s` every second, kline
   * updates, funding. The market control (`movePrice`) still prints its trade.
   */
  quiet(untilMs: number): void {
    this.#quietUntil = Math.max(this.#quietUntil, untilMs);
    this.#logger.info('market quiet', { untilMs: this.#quietUntil });
  }

  /**
   * Deterministic stepping for tests and backtests: make `count` random-walk trades now, for every
   * walking symbol or for one (a replayed symbol cannot be stepped). Does nothing while frozen or quiet.
   */
  generateTrades(count: number, symbol?: string): void {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new SimMarketError(`trade count must be ≥ 0, got ${count}`);
    const markets =
      symbol === undefined ? this.#list.filter((m) => m.walk !== undefined) : [this.#market(symbol)];
    for (const market of markets) {
      if (market.walk === undefined) throw new SimMarketError(`${market.spec.symbol} is replayed from a CSV`);
    }
    if (this.#frozen() || this.#quiet()) return;
    for (const market of markets) this.#walk(market, count);
  }

  /**
   * Market control for tests and demos (`POST /_sim/market`): the price of `symbol` jumps to
   * `price` snapped to the tick — the touch moves there and one minimum-size trade prints at it, so
   * the last price, the mark price and conditional orders follow at once; a walking symbol walks on
   * from there. Returns the price used.
   */
  movePrice(symbol: string, price: Decimal): Decimal {
    const market = this.#market(symbol);
    const spec = market.spec;
    const snapped = price.snap(spec.tickSize, 'half-even');
    if (snapped.sign() <= 0) throw new SimMarketError(`price of ${symbol} must be positive, got ${price}`);
    const time = this.#clock.now();
    const takerSold = snapped.lt(market.lastPrice());
    market.book.touchAt(snapped, takerSold, 1, time);
    const text = snapped.rescale(Math.max(spec.pricePrecision, spec.tickSize.scale)).toString();
    const qty = spec.minQty.rescale(Math.max(spec.quantityPrecision, spec.stepSize.scale)).toString();
    this.#record(market, text, qty, takerSold, time, 1, true);
    this.#afterBatch(market);
    this.#logger.info('price moved by the market control', { symbol, price: text });
    return Decimal.parse(text);
  }

  /** One fast tick (the timer's work; tests call it to step deterministically): trades, closes, pushes. */
  tick(): void {
    this.#fastTicks += 1;
    if (!this.#frozen() && !this.#quiet()) {
      // Trade arrivals per symbol: Poisson with the configured rate (Knuth's method, bounded).
      const expected = (this.#tradesPerSecond * FAST_TICK_MS) / 1000;
      const limit = Math.exp(-expected);
      for (const market of this.#list) {
        if (market.walk === undefined) continue;
        let count = 0;
        for (let p = this.#timing.next(); p > limit && count < 10_000; p *= this.#timing.next()) count += 1;
        this.#walk(market, count);
      }
    }
    const now = this.#now();
    for (const market of this.#list) market.advanceKlines(now);
    if (!this.#frozen() && this.#streamListeners.size > 0) {
      this.#publisher.onFastTick(this.#fastTicks, now, this.#clock.now());
    }
  }

  /** One mark tick (every second): funding samples and settlements, then the per-second streams. */
  markTick(): void {
    this.#markTicks += 1;
    const now = this.#now();
    for (const market of this.#list) {
      market.funding.tick(market.bid(), market.ask());
      const settled = market.funding.settle(now, market.markPrice(now));
      if (settled > 0) this.#logger.debug('funding settled', { symbol: market.spec.symbol, settled });
    }
    if (!this.#frozen() && this.#streamListeners.size > 0) this.#publisher.onSecond(this.#markTicks, now);
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

  /** Whether this aggTrade message is one the `dropAggTrades` fault drops (counted). */
  #takeAggTradeDrop(market: SymbolMarket): boolean {
    const left = this.#aggTradeDrops.get(market.spec.symbol);
    if (left === undefined) return false;
    if (left <= 1) this.#aggTradeDrops.delete(market.spec.symbol);
    else this.#aggTradeDrops.set(market.spec.symbol, left - 1);
    this.#aggTradesDropped += 1;
    return true;
  }

  #frozen(): boolean {
    return this.#clock.now() < this.#frozenUntil;
  }

  #quiet(): boolean {
    return this.#clock.now() < this.#quietUntil;
  }

  #guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#logger.error(`market ${what} failed`, {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  }

  #emit(route: StreamRoute, stream: string, payload: Json): void {
    const drop = this.#streamDrops.get(stream);
    if (drop !== undefined) {
      if (drop <= 1) this.#streamDrops.delete(stream);
      else this.#streamDrops.set(stream, drop - 1);
      return;
    }
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

  #allStreamNames(): string[] {
    const names = [
      '!bookTicker',
      '!markPrice@arr',
      '!markPrice@arr@1s',
      '!ticker@arr',
      '!miniTicker@arr',
      '!forceOrder@arr',
    ];
    const suffixes = [
      'aggTrade',
      'markPrice',
      'markPrice@1s',
      'ticker',
      'miniTicker',
      'forceOrder',
      'bookTicker',
      'depth',
      'depth@100ms',
      'depth@500ms',
      'rpiDepth@500ms',
      ...['5', '10', '20'].flatMap((l) => [`depth${l}`, `depth${l}@100ms`, `depth${l}@500ms`]),
    ];
    const intervals = [
      '1m',
      '3m',
      '5m',
      '15m',
      '30m',
      '1h',
      '2h',
      '4h',
      '6h',
      '8h',
      '12h',
      '1d',
      '3d',
      '1w',
      '1M',
    ];
    for (const market of this.#list) {
      for (const suffix of suffixes) names.push(`${market.stream}@${suffix}`);
      for (const i of intervals) {
        names.push(`${market.stream}@kline_${i}`, `${market.stream}_perpetual@continuousKline_${i}`);
      }
    }
    return names;
  }

  #walk(market: SymbolMarket, count: number): void {
    const walk = market.walk;
    if (walk === undefined || count === 0) return;
    const time = this.#clock.now();
    for (let i = 0; i < count; i++) {
      const trade = walk.next(time);
      const aggId = market.nextAggId();
      this.#record(
        market,
        trade.price.toString(),
        trade.qty.toString(),
        trade.buyerIsMaker,
        time,
        trade.fills,
        true,
      );
      if (this.#liquidationShare > 0 && mixHash(aggId, 0x11c) / 4_294_967_296 < this.#liquidationShare) {
        // Another trader's liquidation: an IOC order whose limit is its bankruptcy price, beyond the fill.
        const worse = trade.buyerIsMaker ? Decimal.parse('0.995') : Decimal.parse('1.005');
        market.pendingLiquidation = {
          side: trade.buyerIsMaker ? 'SELL' : 'BUY',
          price: trade.price.mul(worse).snap(market.spec.tickSize, trade.buyerIsMaker ? 'floor' : 'ceil'),
          averagePrice: trade.price,
          qty: trade.qty,
          time,
        };
      }
    }
    this.#afterBatch(market);
  }

  #deliverReplay(market: SymbolMarket, trades: ReplayTrade[]): void {
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
    let event: { [key: string]: Json };
    try {
      event = market.record(price, qty, buyerIsMaker, time, fills);
    } catch (error) {
      if (!(error instanceof OffGridTrade) || isPublic === false) throw error;
      // A replayed trade off the listed grids (another contract's dump): counted, not recorded.
      this.#offGrid += 1;
      if (this.#offGrid <= 20 || this.#offGrid % 1000 === 0) {
        this.#logger.warn('trade off the symbol grid skipped', {
          error: error.message,
          skipped: this.#offGrid,
        });
      }
      return;
    }
    const stream = `${market.stream}@aggTrade`;
    if (this.#publisher.wants(stream) && !this.#frozen() && !this.#takeAggTradeDrop(market)) {
      this.#emit('market', stream, event);
    }
    if (!isPublic) return;
    const view: MarketTrade = {
      symbol: market.spec.symbol,
      price: Decimal.parse(event.p as string),
      qty: Decimal.parse(event.q as string),
      time: event.T as number,
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

  /** After a batch of trades: klines, and the real-time book ticker. */
  #afterBatch(market: SymbolMarket): void {
    const result = market.flushKlines();
    if (result !== undefined) {
      if (result.rejected.length > 0 || result.late > 0 || result.duplicates > 0 || result.gaps.length > 0) {
        this.#aggregatorProblems += 1;
        const suppressed = this.#aggregatorLog.allow(market.spec.symbol, Date.now());
        if (suppressed !== undefined)
          this.#logger.error('kline aggregator refused market trades', {
            symbol: market.spec.symbol,
            rejected: result.rejected.length,
            late: result.late,
            duplicates: result.duplicates,
            gaps: result.gaps.length,
            problems: this.#aggregatorProblems,
            suppressed,
          });
      }
    }
    if (!this.#frozen() && this.#streamListeners.size > 0) this.#publisher.afterTrades(market, this.#now());
  }
}

function monthStart(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** History trades per minute that fit below a replay's first id (its ids are the dump's own). */
function fitHistory(firstAggId: number, minutes: number, wanted: number): number {
  const room = Math.floor((firstAggId - 1) / (8 * minutes));
  return Math.max(MIN_HISTORY_TRADES_PER_MINUTE, Math.min(wanted, room));
}
