// Market websocket streams into the hub: exchange klines, book tickers and mark prices as they come, plus bars built from aggTrades.
import { MarketStreamClient, type MarketStreamGap } from '../../ts/exchange/market-stream.js';
import { StreamBars } from '../../ts/native/bar-aggregator.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, collectorStatus } from '../collector-context.js';
import { BarResend } from './bar-resend.js';
import { ConnectionStallWatch } from './connection-stall-watch.js';
import { RouteStallWatch } from './route-stall-watch.js';
import { newestEventTime, routeFrames } from './stream-router.js';
import { type HoldOutcome, TradeBackfill, type TradeBackfillOptions } from './trade-backfill.js';

export interface StreamCollectorOptions {
  /** Websocket base URL of the exchange (`wss://fstream.binance.com` or the simulator's). */
  readonly wsUrl: string;
  readonly intervals: readonly IntervalName[];
  readonly maxStreamsPerConnection: number;
  /** Restrict to these symbols (empty: every registry symbol). */
  readonly symbols: readonly string[];
  /** How often quiet bars are closed (default 250 ms). */
  readonly flushMs?: number;
  /**
   * A quiet bar is closed once the exchange's clock, as the market streams show it, is this far
   * past its end (default 500 ms): not this machine's clock, which may be off by any amount, and
   * the margin covers trades still in flight behind the newest event.
   */
  readonly quietCloseLagMs?: number;
  /**
   * How far the exchange's clock may be extrapolated past the newest market-route event (default
   * 2500 ms). `!markPrice@arr@1s` moves that event time every second on a healthy route, even in a
   * market without trades; a route that stalls (connection open, nothing delivered) thus stops
   * closing bars within this bound instead of closing them as final without the trades it missed.
   */
  readonly quietCloseBoundMs?: number;
  /**
   * The market route silent this long, after its heartbeat (`!markPrice@arr@1s`) was seen, is a
   * stall (default 10 000 ms, ten heartbeats): logged once, counted, and every connection of the
   * route replaced; the reconnect's gap check fetches missed trades by id. Still silent, the
   * route is replaced again after twice the wait each time, at most every 5 min.
   */
  readonly marketStallMs?: number;
  /**
   * One `/market` connection silent this long, after it delivered before, while the route as a
   * whole delivers (the route-wide stall not on) is a stall of that connection (default 60 000 ms;
   * 0 turns the per-connection watch off): logged once per episode, counted, and only that
   * connection replaced (the reconnect's gap check fetches its symbols' missed trades by id);
   * still silent, replaced again after twice the wait each time, at most every 5 min.
   *
   * Why 60 s: a connection carries `<s>@aggTrade` and `<s>@kline_<i>` of its symbols, not the
   * heartbeat. Binance documents the USD-M `<symbol>@kline_<interval>` stream's update speed as
   * 250 ms, pushing the current kline "every 250 milliseconds (if existing)" (USD-M futures docs,
   * Kline/Candlestick Streams): it does not promise a push when nothing traded, and aggTrades come
   * only with trades. So a healthy connection carrying a few thin symbols (the last connection may
   * carry a handful of streams) can be quiet for a while; 60 s is 240 kline update periods, a wide
   * margin over the silence of a connection of trading symbols, and a false alarm costs one
   * reconnect and a REST refresh of that connection's symbols, then ever longer waits.
   */
  readonly connectionStallMs?: number;
  /**
   * The whole `/public` route (every book-ticker connection) silent this long, after it delivered
   * or was subscribed, while the market route delivers (its heartbeat seen, no market stall on), is a stall of
   * the route (default 30 000 ms; 0 turns it off): logged once per episode, counted, and every
   * `/public` connection replaced; still silent, replaced again after twice the wait each time, at
   * most every 5 min. A book ticker is pushed with every change of a symbol's best bid or ask, so
   * a route of any USD-M symbols silent for 30 s while the exchange pushes trades is broken; left
   * alone, its quotes (which post-only pricing reads) would stay stale until the connections'
   * maximum age.
   */
  readonly publicStallMs?: number;
  /**
   * After this long without a `!markPrice@arr@1s` message (stream down or not yet subscribed),
   * mark prices come from REST `premiumIndex` (all symbols, weight 10), once per period (default 3 s).
   */
  readonly markFallbackMs?: number;
  /** Bounds of the aggTrade backfill after id gaps and lost connections (tests shorten them). */
  readonly tradeBackfill?: Omit<TradeBackfillOptions, 'intervals'>;
}

/** The all-symbol mark price stream, one message a second. */
export const MARK_PRICE_STREAM = '!markPrice@arr@1s';

/** Wait before subscribing again after a refused or failed subscription. */
const SUBSCRIBE_RETRY_MS = 5000;

/** Default of `marketStallMs` (ten heartbeats). */
const MARKET_STALL_MS = 10_000;

/** Default of `connectionStallMs` (see there for why). */
const CONNECTION_STALL_MS = 60_000;

/** Default of `publicStallMs` (see there for why). */
const PUBLIC_STALL_MS = 30_000;

/** Bars fetched by REST after a gap, per interval: the open bar and the one before it. */
const BACKFILL_BARS = 2;

/**
 * Subscribes `<s>@aggTrade` and `<s>@kline_<i>` on `/market` and `<s>@bookTicker` on `/public` for
 * every symbol. Kline and bookTicker frames go to the hub as they are; aggTrades feed a native
 * `StreamBars` per symbol that puts its bars into the Ingest batch without leaving native code
 * (the merge keeps whichever version has seen more trades). Only bars this collector saw whole
 * are sent — not one it joined mid-way (closed bars are final at the hub). The last 30 minutes'
 * complete closed bars are kept and sent again when the hub is back after being away
 * ({@link BarResend}): a restarted hub has lost them, and the frames that carried them were dropped.
 *
 * An aggTrade id gap costs no bar: the symbol's later trades are held while {@link TradeBackfill}
 * fetches the missing ids from REST `aggTrades` by id, then everything is applied in id order,
 * so the open bar and every bar the gap spanned come out exact; the symbol's recent bars are then
 * fetched by REST klines too. After a lost `/market` connection the next trade's id (or REST)
 * tells whether trades were lost, the same way. A hold given up (bounds in
 * {@link TradeBackfillOptions}) leaves the gap's bars to the REST klines, as does a loss before
 * the first trade was seen.
 *
 * Mark price, index price, funding rate and next funding time of every symbol come from
 * `!markPrice@arr@1s` (one message a second); while it is silent longer than `markFallbackMs`, from
 * REST `premiumIndex` instead. The hub keeps the newest by exchange time, whichever source.
 *
 * That stream is also the `/market` route's heartbeat: a quiet bar closes by the exchange's time
 * only up to `quietCloseBoundMs` past the newest event the route delivered, and a route silent for
 * `marketStallMs` after a heartbeat was seen is reconnected (a stall: Binance can keep a connection
 * open, answering pings, while delivering nothing). `/public` has none: it is reconnected when
 * silent as a whole for `publicStallMs` while the market route delivers.
 */
export class StreamCollector implements Collector {
  readonly kind = 'stream' as const;
  readonly #ctx: CollectorContext;
  readonly #options: StreamCollectorOptions;
  readonly #market: MarketStreamClient;
  readonly #public: MarketStreamClient;
  /** Per symbol, its bars and the time from which this collector saw every trade. */
  readonly #bars = new Map<string, StreamBars>();
  readonly #off: (() => void)[] = [];
  readonly #backfilling = new Set<string>();
  /** Symbols whose unsubscribed aggTrade frames were logged (once each). */
  readonly #strays = new Set<string>();
  readonly #trades: TradeBackfill;
  /** Sends the retained bars again when the hub is back after being away. */
  readonly #resend: BarResend;
  #timer: NodeJS.Timeout | undefined;
  #markTimer: NodeJS.Timeout | undefined;
  #running = false;
  #subscribed = new Set<string>();
  /** Each subscribed symbol's aggTrade stream name, as subscribed (the connection slot that carries it is looked up by it). */
  readonly #aggTradeStreams = new Map<string, string>();
  #counters = {
    batches: 0,
    frames: 0,
    failures: 0,
    unknownFrames: 0,
    rejected: 0,
    gaps: 0,
    barRefreshes: 0,
  };
  #lastSuccessAt: number | null = null;
  #lastError: string | null = null;
  /** When the last mark price message arrived (stream), or the collector started. */
  #lastMarkAt = Date.now();
  #markSubscribed = false;
  #markPolling = false;
  /** True while mark prices come from the REST fallback (logged when it starts and ends). */
  #markFallback = false;
  #markCounters = { streamed: 0, polled: 0 };
  /**
   * The exchange's clock as the market route shows it: the newest event time (`E`) of the last
   * batch and when that batch arrived here; undefined before the first.
   */
  #marketClock: { event: number; receivedAt: number } | undefined;
  /** Stalls of the market route as a whole (silent after its heartbeat was seen). */
  readonly #marketRoute: RouteStallWatch;
  /** Stalls of the `/public` route as a whole (silent while the market route delivers). */
  readonly #publicRoute: RouteStallWatch;
  /** Stalls of single market connections while the route delivers. */
  readonly #connectionStalls: ConnectionStallWatch;
  /** Stalls of single `/public` (bookTicker) connections while others of that route deliver. */
  readonly #publicStalls: ConnectionStallWatch;

  constructor(ctx: CollectorContext, options: StreamCollectorOptions) {
    this.#ctx = ctx;
    this.#options = options;
    const common = {
      baseUrl: options.wsUrl,
      maxStreamsPerConnection: options.maxStreamsPerConnection,
    };
    this.#market = new MarketStreamClient({ ...common, route: 'market', logger: ctx.logger.child('market') });
    this.#public = new MarketStreamClient({ ...common, route: 'public', logger: ctx.logger.child('public') });
    this.#trades = new TradeBackfill(
      ctx.api,
      ctx.link,
      ctx.logger.child('backfill'),
      { ...options.tradeBackfill, intervals: this.#aggregatedIntervals().length },
      (symbol, outcome) => this.#settled(symbol, outcome),
    );
    this.#resend = new BarResend(
      ctx.hub,
      ctx.link,
      ctx.logger.child('resend'),
      this.#bars,
      this.#aggregatedIntervals().length,
    );
    this.#marketRoute = new RouteStallWatch(this.#market, ctx.logger, {
      stallMs: options.marketStallMs ?? MARKET_STALL_MS,
      route: 'market',
      because: 'though its heartbeat flowed before',
    });
    this.#publicRoute = new RouteStallWatch(this.#public, ctx.logger, {
      stallMs: options.publicStallMs ?? PUBLIC_STALL_MS,
      route: 'public',
      because: 'while the market route delivers',
    });
    this.#connectionStalls = new ConnectionStallWatch(this.#market, ctx.logger.child('market'), {
      stallMs: options.connectionStallMs ?? CONNECTION_STALL_MS,
    });
    this.#publicStalls = new ConnectionStallWatch(this.#public, ctx.logger.child('public'), {
      stallMs: options.connectionStallMs ?? CONNECTION_STALL_MS,
      route: 'public',
    });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const onPublicFrames = (frames: Buffer[], receivedAt: number) => {
      this.#publicRoute.delivered(receivedAt);
      this.#onFrames(frames, receivedAt);
    };
    const onMarketFrames = (frames: Buffer[], receivedAt: number) => {
      // The market route carries the aggTrades: its exchange time says which bars have ended.
      const newest = newestEventTime(frames);
      if (newest !== undefined) this.#marketClock = { event: newest, receivedAt };
      this.#marketRoute.delivered(receivedAt);
      this.#onFrames(frames, receivedAt);
    };
    this.#off.push(
      this.#market.onMessages(onMarketFrames),
      this.#public.onMessages(onPublicFrames),
      this.#market.onPossibleGap((gap) => this.#onGap(gap)),
      this.#public.onPossibleGap((gap) => this.#onGap(gap)),
      this.#ctx.hub.onState((state) => {
        if (state === 'ready') void this.#syncSubscriptions();
      }),
      this.#ctx.hub.onMessage((message) => {
        if (message.op === 'symbols') void this.#syncSubscriptions();
      }),
    );
    // After the link's own listeners (it was built first): the registry is synced when this runs.
    this.#off.push(this.#resend.watch());
    void this.#syncSubscriptions();
    this.#lastMarkAt = Date.now();
    this.#timer = setInterval(() => {
      this.#checkStall();
      this.#checkPublicStalls();
      this.#advanceQuietBars();
    }, this.#options.flushMs ?? 250);
    // Its own clock, checked twice per fallback period, so silence is seen whatever the phase of
    // the stream's one-a-second messages.
    const fallbackMs = this.#options.markFallbackMs ?? 3000;
    this.#markTimer = setInterval(
      () => {
        if (Date.now() - this.#lastMarkAt > fallbackMs) void this.#pollMarks();
      },
      Math.max(50, fallbackMs / 2),
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#trades.stop();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#markTimer !== undefined) clearInterval(this.#markTimer);
    for (const off of this.#off.splice(0)) off();
    await Promise.all([this.#market.close(), this.#public.close()]);
  }

  status(): CollectorStatus {
    const m = this.#market.status();
    const p = this.#public.status();
    const work = {
      running: this.#running,
      polls: this.#counters.batches,
      failures: this.#counters.failures,
      lastSuccessAt: this.#lastSuccessAt,
      lastError: this.#lastError,
    };
    const holds = { holds: 0, healed: 0, released: 0, backfilled: 0, duplicates: 0 };
    for (const bars of this.#bars.values()) {
      const h = bars.holdStats();
      holds.holds += h.holds;
      holds.healed += h.healed;
      holds.released += h.released;
      holds.backfilled += h.backfilled;
      holds.duplicates += h.duplicates;
    }
    const t = this.#trades.counters;
    return collectorStatus(this.kind, work, this.#ctx.link, {
      streams: m.streams + p.streams,
      connections: m.connections.length + p.connections.length,
      reconnects: m.reconnects + p.reconnects,
      frames: this.#counters.frames,
      unknownFrames: this.#counters.unknownFrames,
      rejected: this.#counters.rejected + t.rejected,
      // Holds: an id gap or a lost connection, healed (every id applied in order) or released.
      holds: holds.holds,
      holdsHealed: holds.healed,
      holdsReleased: holds.released,
      holding: this.#trades.holding,
      heldTrades: this.#trades.heldTrades,
      tradesBackfilled: holds.backfilled,
      backfillDuplicates: holds.duplicates,
      backfillPages: t.pages,
      backfillPageFailures: t.pageFailures,
      backfillStalls: t.stalls,
      backfillRowsFetched: t.tradesFetched,
      lastBackfillError: this.#trades.lastError ?? '',
      // Id gaps applied as gaps (a hold given up): their bars came from REST klines.
      aggTradeGaps: this.#counters.gaps + t.gapsApplied,
      barRefreshes: this.#counters.barRefreshes,
      // The hub back after being away: recent closed bars sent again (bar-resend.ts).
      resends: this.#resend.counters.resends,
      barsResent: this.#resend.counters.barsResent,
      marketTime: this.#exchangeNow() ?? 0,
      // Stalls: the market route silent past `marketStallMs` with its heartbeat seen before.
      marketStalls: this.#marketRoute.counters.stalls,
      marketStallReconnects: this.#marketRoute.counters.reconnects,
      marketSilentMs: this.#marketRoute.silentMs(),
      // The whole `/public` route silent past `publicStallMs` while the market route delivered.
      publicStalls: this.#publicRoute.counters.stalls,
      publicStallReconnects: this.#publicRoute.counters.reconnects,
      publicSilentMs: this.#publicRoute.silentMs(),
      // One connection silent past `connectionStallMs` while the route delivered.
      connectionStalls: this.#connectionStalls.counters.stalls,
      connectionStallReconnects: this.#connectionStalls.counters.reconnects,
      stalledConnections: this.#connectionStalls.stalled,
      // The same for `/public` (book tickers): a stalled one leaves its symbols' quotes stale.
      publicConnectionStalls: this.#publicStalls.counters.stalls,
      publicConnectionStallReconnects: this.#publicStalls.counters.reconnects,
      markMessages: this.#markCounters.streamed,
      markPolls: this.#markCounters.polled,
    });
  }

  #wantedSymbols(): string[] {
    const registry = this.#ctx.link.symbols;
    const only = new Set(this.#options.symbols);
    return registry.filter((s) => only.size === 0 || only.has(s));
  }

  async #syncSubscriptions(): Promise<void> {
    if (!this.#running) return;
    const symbols = this.#wantedSymbols().filter((s) => !this.#subscribed.has(s));
    if (symbols.length === 0) return;
    for (const s of symbols) this.#subscribed.add(s);
    try {
      const market: string[] = [];
      const publicStreams: string[] = [];
      for (const symbol of symbols) {
        const s = symbol.toLowerCase();
        const aggTrades = `${s}@aggTrade`;
        this.#aggTradeStreams.set(symbol, aggTrades);
        market.push(aggTrades, ...this.#options.intervals.map((i) => `${s}@kline_${i}`));
        publicStreams.push(`${s}@bookTicker`);
        if (!this.#bars.has(symbol)) {
          this.#bars.set(symbol, new StreamBars(symbol, this.#aggregatedIntervals(), Date.now(), true));
        }
      }
      const markStream = this.#markSubscribed ? [] : [MARK_PRICE_STREAM];
      this.#markSubscribed = true;
      await Promise.all([
        this.#market.subscribe([...markStream, ...market]),
        this.#public.subscribe(publicStreams),
      ]);
      // Book tickers come with every change of the best bid or ask: a route subscribed and then
      // silent is judged like one that went silent.
      this.#publicRoute.expectFrom(Date.now());
      this.#ctx.logger.info('subscribed', {
        symbols: symbols.length,
        streams: market.length + publicStreams.length,
      });
    } catch (error) {
      for (const s of symbols) this.#subscribed.delete(s);
      this.#markSubscribed = false;
      this.#fail(`subscribe failed; retrying in ${SUBSCRIBE_RETRY_MS} ms`, error);
      // Retried while running, one attempt per period, each logged (the streams' own reconnects are bounded).
      setTimeout(() => void this.#syncSubscriptions(), SUBSCRIBE_RETRY_MS).unref();
    }
  }

  /** Intervals the aggregator can build (fixed-length ones; `1M` comes from the exchange's klines). */
  #aggregatedIntervals(): IntervalName[] {
    return this.#options.intervals.filter((i) => i !== '1M');
  }

  #fail(what: string, error: unknown): void {
    this.#counters.failures += 1;
    this.#lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    this.#ctx.logger.warn(what, { error: this.#lastError });
  }

  #onFrames(frames: Buffer[], _receivedAt: number): void {
    const { link } = this.#ctx;
    this.#counters.batches += 1;
    this.#counters.frames += frames.length;
    const routed = routeFrames(frames);
    this.#counters.unknownFrames += routed.unknown.length;
    try {
      const [lone] = routed.mergeable;
      if (
        lone !== undefined &&
        routed.mergeable.length === 1 &&
        routed.markPrices.length === 0 &&
        routed.aggTrades.size === 0
      ) {
        // A quiet stream's batch is one message: it goes out as its own frame in one native call.
        this.#counters.rejected += link.sendMarketEvent(lone).failures.length;
        this.#lastSuccessAt = Date.now();
        return;
      }
      if (routed.mergeable.length > 0) {
        const result = link.encoder.pushMarketEvents(routed.mergeable);
        this.#counters.rejected += result.failures.length;
      }
      for (const message of routed.markPrices) {
        this.#counters.rejected += this.#pushMarks(message);
      }
      for (const [symbol, trades] of routed.aggTrades) this.#pushTrades(symbol, trades);
      link.flush();
      this.#lastSuccessAt = Date.now();
    } catch (error) {
      this.#fail('stream batch failed', error);
    }
  }

  /**
   * Builds bars from a symbol's aggTrades straight into the link's encoder, in pieces that keep a
   * frame under the hub's cap: a message closes at most a bar per interval, and every interval's
   * open bar goes too. While the symbol's bars hold (an id gap), the backfill applies what follows on.
   */
  #pushTrades(symbol: string, trades: Buffer[]): void {
    const bars = this.#bars.get(symbol);
    if (bars === undefined) {
      // A stream this collector never subscribed to: no bars to build, so counted as unknown.
      this.#counters.unknownFrames += trades.length;
      if (!this.#strays.has(symbol)) {
        this.#strays.add(symbol);
        this.#ctx.logger.warn('aggTrades of a stream not subscribed to; dropped (logged once per symbol)', {
          symbol,
          frames: trades.length,
        });
      }
      return;
    }
    const { link } = this.#ctx;
    const intervals = this.#aggregatedIntervals().length;
    const piece = Math.max(1, Math.floor(link.recordBudget / intervals) - 1);
    for (let start = 0; start < trades.length; start += piece) {
      const part = trades.slice(start, start + piece);
      link.makeRoom((part.length + 1) * intervals);
      const result = bars.pushMessages(part, link.currentEncoder);
      this.#counters.rejected += result.rejected.length;
      this.#counters.gaps += result.gaps.length;
    }
    this.#trades.follow(symbol, bars);
  }

  /** Pushes one `!markPrice@arr` message; returns 1 when it was refused (counted), else 0. */
  #pushMarks(message: Buffer): number {
    try {
      this.#ctx.link.encoder.pushMarkPrices(message);
      this.#lastMarkAt = Date.now();
      this.#markCounters.streamed += 1;
      // The stream is on `/market` only: its first message is the route's heartbeat seen.
      if (this.#markCounters.streamed === 1)
        this.#ctx.logger.info('market route heartbeat seen; stalls are watched from now', {
          stallMs: this.#marketRoute.stallMs,
        });
      if (this.#markFallback) {
        this.#markFallback = false;
        this.#ctx.logger.info('mark price stream back; premiumIndex polling stopped');
      }
      return 0;
    } catch (error) {
      this.#ctx.logger.warn('mark price message refused', {
        error: error instanceof Error ? error.message : String(error),
      });
      return 1;
    }
  }

  /** The fallback while the mark price stream is silent: every symbol's `premiumIndex`, once. */
  async #pollMarks(): Promise<void> {
    if (this.#markPolling || !this.#running || !this.#ctx.link.ready) return;
    this.#markPolling = true;
    try {
      const response = await this.#ctx.api.premiumIndex();
      this.#ctx.link.encoder.pushPremiumIndex(response.body);
      this.#ctx.link.flush();
      this.#markCounters.polled += 1;
      if (!this.#markFallback) {
        this.#markFallback = true;
        this.#ctx.logger.warn('mark price stream silent; polling premiumIndex until it is back', {
          silentMs: Date.now() - this.#lastMarkAt,
        });
      }
    } catch (error) {
      this.#fail('premiumIndex fallback failed', error);
    } finally {
      this.#markPolling = false;
    }
  }

  /**
   * The exchange's time now as the market route shows it: the newest event time plus what this
   * machine's clock says has passed since it arrived, at most `quietCloseBoundMs`. It trails the
   * exchange by that event's delivery delay and follows it whatever this machine's clock is set
   * to; a route that stops delivering stops it within the bound.
   */
  #exchangeNow(): number | undefined {
    const clock = this.#marketClock;
    if (clock === undefined) return undefined;
    // Bounded: past the bound the route's silence is no evidence that nothing traded.
    const elapsed = Math.min(Date.now() - clock.receivedAt, this.#options.quietCloseBoundMs ?? 2500);
    return clock.event + Math.max(0, elapsed);
  }

  /**
   * The market route silent for `marketStallMs` after its heartbeat was seen has stalled, and is
   * replaced whole ({@link RouteStallWatch}; the reconnects' gap checks fetch missed trades by id).
   * While the route delivers, one connection of it that stays silent is the
   * {@link ConnectionStallWatch}'s, replaced alone.
   */
  #checkStall(): void {
    const last = this.#marketRoute.lastFrameAt;
    if (!this.#running || this.#markCounters.streamed === 0 || last === undefined) return;
    const stalled = this.#marketRoute.check(true);
    this.#connectionStalls.check({ lastFrameAt: last, stalled });
  }

  /**
   * `/public` has no heartbeat. The route as a whole silent for `publicStallMs` while the market
   * route delivers (its heartbeat seen, delivering within that bound, no market stall on) is a
   * stall of the route, replaced whole ({@link RouteStallWatch}). One connection silent while
   * another of the route delivered after that (book tickers come with every change of the best
   * bid or ask, so the liquid symbols' connections show the exchange pushes) is replaced alone,
   * as on `/market`.
   */
  #checkPublicStalls(): void {
    if (!this.#running) return;
    const marketLast = this.#marketRoute.lastFrameAt;
    const marketDelivers =
      this.#markCounters.streamed > 0 &&
      !this.#marketRoute.stalled &&
      marketLast !== undefined &&
      Date.now() - marketLast < this.#publicRoute.stallMs;
    const routeStalled = this.#publicRoute.check(marketDelivers);
    const publicLast = this.#publicRoute.lastFrameAt;
    if (publicLast !== undefined)
      this.#publicStalls.check({ lastFrameAt: publicLast, stalled: routeStalled });
  }

  /**
   * Closes bars of quiet symbols and sends them (a bar ends even when no trade comes), up to the
   * exchange's time less the lag; nothing before the first market event. A bar closed here is
   * final at the hub: never by this machine's clock, which may run ahead of the exchange.
   *
   * The route's clock is bounded per connection too: a symbol whose aggTrades come over another
   * connection than the heartbeat's closes only up to `quietCloseBoundMs` past that connection's
   * last frame (mapped to exchange time through the route's clock), so one stalled connection of
   * many cannot have its symbols' bars closed by the others' events.
   */
  #advanceQuietBars(): void {
    const clock = this.#marketClock;
    const exchangeNow = this.#exchangeNow();
    if (clock === undefined || exchangeNow === undefined) return;
    const lag = this.#options.quietCloseLagMs ?? 500;
    const bound = this.#options.quietCloseBoundMs ?? 2500;
    const { link } = this.#ctx;
    const intervals = this.#aggregatedIntervals().length;
    // Per connection slot, the exchange time up to which its symbols may close (computed once).
    const slotLimits = new Map<number, number>();
    const limitOf = (symbol: string): number => {
      const stream = this.#aggTradeStreams.get(symbol);
      const slot = stream === undefined ? undefined : this.#market.slotOf(stream);
      if (slot === undefined) return exchangeNow;
      let limit = slotLimits.get(slot);
      if (limit === undefined) {
        const last = this.#market.lastFrameAt(slot);
        // A connection that never delivered proves nothing about its symbols: they wait for it.
        limit =
          last === null || last === undefined
            ? Number.NEGATIVE_INFINITY
            : Math.min(exchangeNow, clock.event + (last - clock.receivedAt) + bound);
        slotLimits.set(slot, limit);
      }
      return limit;
    };
    try {
      for (const [symbol, bars] of this.#bars) {
        const limit = limitOf(symbol);
        if (limit === Number.NEGATIVE_INFINITY) continue;
        link.makeRoom(intervals);
        bars.advanceTo(limit - lag, link.currentEncoder);
      }
      link.flush();
    } catch (error) {
      this.#fail('closing bars failed', error);
    }
  }

  /**
   * A connection was lost and restored. `/public` carries book tickers only, which the next one
   * replaces: bars are not concerned. On `/market`, klines were lost (refreshed by REST now) and
   * aggTrades: a symbol with a trade seen checks the ids after it (a hold); one without has its
   * bars before the restoration marked incomplete (REST klines supply them).
   */
  #onGap(gap: MarketStreamGap): void {
    if (!gap.streams.some((s) => s.endsWith('@aggTrade') || s.includes('@kline_'))) return;
    const symbols = new Set<string>();
    const checked: string[] = [];
    for (const stream of gap.streams) {
      const at = stream.indexOf('@');
      if (at <= 0 || stream.startsWith('!')) continue;
      const symbol = stream.slice(0, at).toUpperCase();
      symbols.add(symbol);
      const bars = this.#bars.get(symbol);
      if (stream.endsWith('@aggTrade') && bars !== undefined) {
        if (this.#trades.followLoss(symbol, bars, gap.restoredAt)) checked.push(symbol);
      }
    }
    this.#ctx.logger.warn(
      'market stream connection lost data; checking aggTrade ids and refreshing bars by REST',
      {
        reason: gap.reason,
        symbols: symbols.size,
        checkingIds: checked.length,
        lostMs: gap.restoredAt - gap.lostAt,
      },
    );
    // Holding symbols get theirs when the hold ends (then the trades are in).
    const held = new Set(checked);
    void this.#refreshBars([...symbols].filter((s) => !held.has(s)));
  }

  /** A hold ended: the symbol's bars by REST klines too (they confirm, or supply what was given up). */
  #settled(symbol: string, outcome: HoldOutcome): void {
    this.#ctx.logger.info('aggTrade hold ended', { symbol, outcome });
    if (this.#running) void this.#refreshBars([symbol]);
  }

  /** Fetches each symbol's latest bars of every interval by REST and sends them to the hub. */
  async #refreshBars(symbols: readonly string[]): Promise<void> {
    const { api, link } = this.#ctx;
    for (const symbol of symbols) {
      if (this.#backfilling.has(symbol)) continue;
      this.#backfilling.add(symbol);
      try {
        for (const interval of this.#options.intervals) {
          const response = await api.klines({ symbol, interval, limit: BACKFILL_BARS });
          const id = link.symbolId(symbol);
          if (id === undefined) break;
          link.encoder.pushRestKlines(id, interval, response.body, response.serverTimeMs);
        }
        link.flush();
        this.#counters.barRefreshes += 1;
      } catch (error) {
        this.#fail(`backfill of ${symbol} failed`, error);
      } finally {
        this.#backfilling.delete(symbol);
      }
    }
  }
}
