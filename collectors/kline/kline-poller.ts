// Polls REST klines symbol by symbol from the hub's cursor (kline) or its volume ranks (hot-kline).
import type { IntervalName } from '../../ts/native/interval.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';

/** Bars sent on an ordinary poll: the two that can still change (the seed's split). */
export const RECENT_BARS = 2;
/** Bars sent on a full poll, for the trader's window. */
export const FULL_BARS = 45;
/** How often a hot-kline poller refreshes its list from the hub's volume ranks. */
const RANKS_REFRESH_MS = 60_000;

export interface KlinePollerOptions {
  /** `kline` polls every registry symbol; `hot-kline` only the `top` symbols by 24 h volume. */
  readonly kind: 'kline' | 'hot-kline';
  readonly intervals: readonly IntervalName[];
  /** Time between two polls of this collector (each poll covers one symbol). */
  readonly intervalMs: number;
  /** A symbol's full window is re-sent when it is older than this. */
  readonly fullEveryMs: number;
  /** Hot-kline only: how many of the ranked symbols. */
  readonly top?: number;
}

/**
 * Each poll asks the hub's cursor for the next symbol, so several pollers of a kind share the
 * symbols without overlap, then fetches `klines?limit=2` per interval (`limit=45` when that
 * series' full window is due) and the symbol's latest traded price (`ticker/price`), which lets
 * the hub correct the newest bar (DESIGN.md 3.2: traded prices only, never bid/ask). All rows go
 * to the hub in one Ingest frame.
 */
export class KlinePoller implements Collector {
  readonly kind: 'kline' | 'hot-kline';
  readonly #ctx: CollectorContext;
  readonly #options: KlinePollerOptions;
  readonly #loop: PollLoop;
  readonly #lastFull = new Map<string, number>();
  #hot: string[] = [];
  #hotAt = 0;
  #requests = 0;
  #skipped = 0;

  constructor(ctx: CollectorContext, options: KlinePollerOptions) {
    this.kind = options.kind;
    this.#ctx = ctx;
    this.#options = options;
    this.#loop = new PollLoop({ intervalMs: options.intervalMs, logger: ctx.logger }, () => this.#poll());
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  status(): CollectorStatus {
    return pollStatus(this.kind, this.#loop, this.#ctx.link, {
      requests: this.#requests,
      skipped: this.#skipped,
      hotSymbols: this.#hot.length,
    });
  }

  async #nextSymbol(): Promise<string | undefined> {
    const { hub } = this.#ctx;
    if (this.kind === 'kline') return (await hub.cursorNext('kline')).symbol;
    const now = Date.now();
    if (now - this.#hotAt > RANKS_REFRESH_MS || this.#hot.length === 0) {
      this.#hot = (await hub.ranks(this.#options.top ?? 5)).symbols;
      this.#hotAt = now;
    }
    if (this.#hot.length === 0) return undefined;
    const { index } = await hub.cursorNext('hot-kline');
    return this.#hot[index % this.#hot.length];
  }

  async #poll(): Promise<void> {
    const { api, link } = this.#ctx;
    if (!link.ready) {
      this.#skipped += 1;
      return;
    }
    const symbol = await this.#nextSymbol();
    if (symbol === undefined || link.symbolId(symbol) === undefined) {
      this.#skipped += 1;
      return;
    }
    const now = Date.now();
    for (const interval of this.#options.intervals) {
      const key = `${symbol}:${interval}`;
      const full = now - (this.#lastFull.get(key) ?? 0) >= this.#options.fullEveryMs;
      const response = await api.klines({ symbol, interval, limit: full ? FULL_BARS : RECENT_BARS });
      this.#requests += 1;
      // Looked up after the await: a registry change meanwhile may have renumbered the symbols.
      const symbolId = link.symbolId(symbol);
      if (symbolId === undefined) return;
      link.encoder.pushRestKlines(symbolId, interval, response.body, response.serverTimeMs);
      if (full) this.#lastFull.set(key, now);
    }
    const traded = await api.tickerPrice({ symbol });
    this.#requests += 1;
    link.encoder.pushRestPriceTickers(traded.body);
    link.flush();
  }
}
