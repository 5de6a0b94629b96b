// Market websocket streams into the hub: exchange klines, book tickers and mark prices as they come, plus bars built from aggTrades.
import { MarketStreamClient, type MarketStreamGap } from '../../ts/exchange/market-stream.js';
import { StreamBars } from '../../ts/native/bar-aggregator.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, collectorStatus } from '../collector-context.js';
import { newestEventTime, routeFrames } from './stream-router.js';

export interface StreamCollectorOptions {
  /** Websocket base URL of the exchange (`wss://fstream.binance.com` or the simulator's). */
  readonly wsUrl: string;
  readonly intervals: readonly IntervalName[];
  readonly maxStreamsPerConnection: number;
  /** Restrict to these symbols (empty: every registry symbol). */
  readonly symbols: readonly string[];
  /** How often quiet bars are closed (default 1 s). */
  readonly flushMs?: number;
  /**
   * A quiet bar is closed once the market streams have delivered an event this long past its end
   * (default 1 s): their exchange time, not this machine's clock, which may be off or ahead of
   * trades still in flight, and the margin covers events of other streams arriving first.
   */
  readonly quietCloseLagMs?: number;
  /**
   * After this long without a `!markPrice@arr@1s` message (stream down or not yet subscribed),
   * mark prices come from REST `premiumIndex` (all symbols, weight 10), once per period (default 3 s).
   */
  readonly markFallbackMs?: number;
}

/** The all-symbol mark price stream, one message a second. */
export const MARK_PRICE_STREAM = '!markPrice@arr@1s';

/** Wait before subscribing again after a refused or failed subscription. */
const SUBSCRIBE_RETRY_MS = 5000;

/** Bars fetched by REST after a gap, per interval: the open bar and the one before it. */
const BACKFILL_BARS = 2;

/**
 * Subscribes `<s>@aggTrade` and `<s>@kline_<i>` on `/market` and `<s>@bookTicker` on `/public` for
 * every symbol. Kline and bookTicker frames go to the hub as they are; aggTrades feed a native
 * `StreamBars` per symbol that puts its bars into the Ingest batch without leaving native code
 * (the merge keeps whichever version has seen more trades). Only bars this collector saw whole
 * are sent — not one it joined mid-way, nor one spanning a lost connection or an id gap (closed
 * bars are final at the hub) — and after a lost connection or an id gap the affected symbols'
 * recent bars are fetched by REST, so a bar is never left short of trades.
 *
 * Mark price, index price, funding rate and next funding time of every symbol come from
 * `!markPrice@arr@1s` (one message a second); while it is silent longer than `markFallbackMs`, from
 * REST `premiumIndex` instead. The hub keeps the newest by exchange time, whichever source.
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
  #timer: NodeJS.Timeout | undefined;
  #markTimer: NodeJS.Timeout | undefined;
  #running = false;
  #subscribed = new Set<string>();
  #counters = { batches: 0, frames: 0, failures: 0, unknownFrames: 0, rejected: 0, gaps: 0, backfills: 0 };
  #lastSuccessAt: number | null = null;
  #lastError: string | null = null;
  /** When the last mark price message arrived (stream), or the collector started. */
  #lastMarkAt = Date.now();
  #markSubscribed = false;
  #markPolling = false;
  /** True while mark prices come from the REST fallback (logged when it starts and ends). */
  #markFallback = false;
  #markCounters = { streamed: 0, polled: 0 };
  /** The newest exchange event time (`E`) the market route delivered; undefined before the first. */
  #marketTime: number | undefined;

  constructor(ctx: CollectorContext, options: StreamCollectorOptions) {
    this.#ctx = ctx;
    this.#options = options;
    const common = {
      baseUrl: options.wsUrl,
      maxStreamsPerConnection: options.maxStreamsPerConnection,
    };
    this.#market = new MarketStreamClient({ ...common, route: 'market', logger: ctx.logger.child('market') });
    this.#public = new MarketStreamClient({ ...common, route: 'public', logger: ctx.logger.child('public') });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const onFrames = (frames: Buffer[], receivedAt: number) => this.#onFrames(frames, receivedAt);
    const onMarketFrames = (frames: Buffer[], receivedAt: number) => {
      // The market route carries the aggTrades: its exchange time says which bars have ended.
      const newest = newestEventTime(frames);
      if (newest !== undefined && (this.#marketTime === undefined || newest > this.#marketTime))
        this.#marketTime = newest;
      this.#onFrames(frames, receivedAt);
    };
    this.#off.push(
      this.#market.onMessages(onMarketFrames),
      this.#public.onMessages(onFrames),
      this.#market.onPossibleGap((gap) => this.#onGap(gap)),
      this.#public.onPossibleGap((gap) => this.#onGap(gap)),
      this.#ctx.hub.onState((state) => {
        if (state === 'ready') void this.#syncSubscriptions();
      }),
      this.#ctx.hub.onMessage((message) => {
        if (message.op === 'symbols') void this.#syncSubscriptions();
      }),
    );
    void this.#syncSubscriptions();
    this.#lastMarkAt = Date.now();
    this.#timer = setInterval(() => this.#advanceQuietBars(), this.#options.flushMs ?? 1000);
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
    return collectorStatus(this.kind, work, this.#ctx.link, {
      streams: m.streams + p.streams,
      connections: m.connections.length + p.connections.length,
      reconnects: m.reconnects + p.reconnects,
      frames: this.#counters.frames,
      unknownFrames: this.#counters.unknownFrames,
      rejected: this.#counters.rejected,
      aggTradeGaps: this.#counters.gaps,
      backfills: this.#counters.backfills,
      marketTime: this.#marketTime ?? 0,
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
        market.push(`${s}@aggTrade`, ...this.#options.intervals.map((i) => `${s}@kline_${i}`));
        publicStreams.push(`${s}@bookTicker`);
        if (!this.#bars.has(symbol)) {
          this.#bars.set(symbol, new StreamBars(symbol, this.#aggregatedIntervals(), Date.now()));
        }
      }
      const markStream = this.#markSubscribed ? [] : [MARK_PRICE_STREAM];
      this.#markSubscribed = true;
      await Promise.all([
        this.#market.subscribe([...markStream, ...market]),
        this.#public.subscribe(publicStreams),
      ]);
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
   * open bar goes too.
   */
  #pushTrades(symbol: string, trades: Buffer[]): void {
    const bars = this.#bars.get(symbol);
    if (bars === undefined) return;
    const { link } = this.#ctx;
    const intervals = this.#aggregatedIntervals().length;
    const piece = Math.max(1, Math.floor(link.recordBudget / intervals) - 1);
    let firstMissing: number | undefined;
    for (let start = 0; start < trades.length; start += piece) {
      const part = trades.slice(start, start + piece);
      link.makeRoom((part.length + 1) * intervals);
      const result = bars.pushMessages(part, link.currentEncoder);
      this.#counters.rejected += result.rejected.length;
      this.#counters.gaps += result.gaps.length;
      firstMissing ??= result.gaps[0]?.firstMissing;
    }
    if (firstMissing !== undefined) {
      this.#ctx.logger.warn('aggTrade ids missing; backfilling bars by REST', { symbol, firstMissing });
      void this.#backfill([symbol]);
    }
  }

  /** Pushes one `!markPrice@arr` message; returns 1 when it was refused (counted), else 0. */
  #pushMarks(message: Buffer): number {
    try {
      this.#ctx.link.encoder.pushMarkPrices(message);
      this.#lastMarkAt = Date.now();
      this.#markCounters.streamed += 1;
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
   * Closes bars of quiet symbols and sends them (a bar ends even when no trade comes), up to the
   * exchange time the market streams have reached less the lag; nothing before their first event.
   * A bar closed here is final at the hub, so this never goes by this machine's clock.
   */
  #advanceQuietBars(): void {
    if (this.#marketTime === undefined) return;
    const now = this.#marketTime - (this.#options.quietCloseLagMs ?? 1000);
    const { link } = this.#ctx;
    const intervals = this.#aggregatedIntervals().length;
    try {
      for (const bars of this.#bars.values()) {
        link.makeRoom(intervals);
        bars.advanceTo(now, link.currentEncoder);
      }
      link.flush();
    } catch (error) {
      this.#fail('closing bars failed', error);
    }
  }

  #onGap(gap: MarketStreamGap): void {
    const symbols = new Set(gap.streams.map((s) => s.slice(0, s.indexOf('@')).toUpperCase()));
    for (const symbol of symbols) this.#bars.get(symbol)?.markIncompleteUntil(gap.restoredAt);
    this.#ctx.logger.warn('stream connection lost data; backfilling by REST', {
      reason: gap.reason,
      symbols: symbols.size,
      lostMs: gap.restoredAt - gap.lostAt,
    });
    void this.#backfill([...symbols]);
  }

  /** Fetches each symbol's latest bars of every interval by REST and sends them to the hub. */
  async #backfill(symbols: readonly string[]): Promise<void> {
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
        this.#counters.backfills += 1;
      } catch (error) {
        this.#fail(`backfill of ${symbol} failed`, error);
      } finally {
        this.#backfilling.delete(symbol);
      }
    }
  }
}
