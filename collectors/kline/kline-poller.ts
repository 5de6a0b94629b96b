// Polls REST klines symbol by symbol from the hub's cursor (kline) or its volume ranks (hot-kline).
import { Decimal } from '../../ts/exact/decimal.js';
import type { IntervalName } from '../../ts/native/interval.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';

/** Bars sent on an ordinary poll: the two that can still change (the seed's split). */
export const RECENT_BARS = 2;
/** Bars sent on a full poll, for the trader's window. */
export const FULL_BARS = 45;
/** How often a hot-kline poller re-evaluates its volume condition, unless configured. */
const CONDITION_REFRESH_MS = 300_000;

export interface KlinePollerOptions {
  /** `kline` polls every registry symbol; `hot-kline` only the symbols passing the volume condition. */
  readonly kind: 'kline' | 'hot-kline';
  readonly intervals: readonly IntervalName[];
  /** Time between two polls of this collector (each poll covers one symbol). */
  readonly intervalMs: number;
  /** A symbol's full window is re-sent when it is older than this. */
  readonly fullEveryMs: number;
  /** Hot-kline only: at most this many symbols pass the condition (largest 24 h quote volume first). */
  readonly top?: number;
  /** Hot-kline only: the volume condition, a symbol's minimum 24 h quote volume (decimal string). */
  readonly minQuoteVolume?: string;
  /** Hot-kline only: how often the condition is re-evaluated (`ticker/24hr`, weight 40). */
  readonly conditionRefreshMs?: number;
}

/** One row of `GET /fapi/v1/ticker/24hr` as far as the condition reads it (unchecked). */
interface TickerRow {
  symbol?: unknown;
  quoteVolume?: unknown;
}

/** The hot list and what the answer held that it could not count. */
export interface HotSymbols {
  /** Registry symbols passing the condition, largest volume first, at most `top`. */
  readonly symbols: string[];
  /** Rows naming a symbol an earlier row of the same answer named (the first counts). */
  readonly duplicateRows: number;
  /** Registry symbols whose row has no readable `quoteVolume` (a non-negative decimal string): they never pass. */
  readonly unreadable: string[];
  /** Rows that are not objects naming a symbol. */
  readonly malformedRows: number;
}

/**
 * The hot list: registry symbols whose 24 h quote volume is at least `minQuoteVolume`, largest
 * first, at most `top`, ties by name (every poller computes the same list from the same data).
 * A symbol the answer holds twice counts once, by its first row: listed twice it would take two
 * of the `top` places and push a symbol out.
 */
export function hotSymbols(
  rows: readonly unknown[],
  registry: ReadonlySet<string>,
  minQuoteVolume: Decimal,
  top: number,
): HotSymbols {
  const passing: { symbol: string; volume: Decimal }[] = [];
  const seen = new Set<string>();
  const unreadable: string[] = [];
  let duplicateRows = 0;
  let malformedRows = 0;
  for (const raw of rows) {
    const row = (typeof raw === 'object' && raw !== null ? raw : {}) as TickerRow;
    if (typeof row.symbol !== 'string') {
      malformedRows += 1;
      continue;
    }
    if (seen.has(row.symbol)) {
      duplicateRows += 1;
      continue;
    }
    seen.add(row.symbol);
    if (!registry.has(row.symbol)) continue;
    const volume = typeof row.quoteVolume === 'string' ? Decimal.tryParse(row.quoteVolume) : undefined;
    if (volume === undefined || volume.sign() < 0) {
      unreadable.push(row.symbol);
      continue;
    }
    if (volume.gte(minQuoteVolume)) passing.push({ symbol: row.symbol, volume });
  }
  passing.sort((a, b) => b.volume.cmp(a.volume) || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return {
    symbols: passing.slice(0, top).map((p) => p.symbol),
    duplicateRows,
    unreadable,
    malformedRows,
  };
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
  /** `ticker/24hr` rows naming a symbol an earlier row of the same answer named. */
  #duplicateRows = 0;
  /** `ticker/24hr` rows not counted: no symbol, or a registry symbol's volume unreadable. */
  #unreadableRows = 0;

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
      duplicateRows: this.#duplicateRows,
      unreadableRows: this.#unreadableRows,
      hotSymbols: this.#hot.length,
    });
  }

  async #nextSymbol(): Promise<string | undefined> {
    const { hub } = this.#ctx;
    if (this.kind === 'kline') return (await hub.cursorNext('kline')).symbol;
    const now = Date.now();
    const refreshMs = this.#options.conditionRefreshMs ?? CONDITION_REFRESH_MS;
    if (now - this.#hotAt > refreshMs || this.#hot.length === 0) await this.#evaluateCondition(now);
    if (this.#hot.length === 0) return undefined;
    // The shared cursor wraps at the hot list's length, so every hot symbol comes round equally
    // often however many pollers share it.
    const { index } = await hub.cursorNext('hot-kline', this.#hot.length);
    return this.#hot[index];
  }

  /** Re-evaluates the volume condition from the exchange's 24 h tickers. */
  async #evaluateCondition(now: number): Promise<void> {
    const response = await this.#ctx.api.ticker24h();
    this.#requests += 1;
    const rows = JSON.parse(response.body.toString()) as unknown;
    if (!Array.isArray(rows)) throw new Error('ticker/24hr: expected an array of all symbols');
    const result = hotSymbols(
      rows,
      new Set(this.#ctx.link.symbols),
      Decimal.parse(this.#options.minQuoteVolume ?? '0'),
      this.#options.top ?? 5,
    );
    if (result.duplicateRows > 0) {
      this.#duplicateRows += result.duplicateRows;
      this.#ctx.logger.warn('ticker/24hr names some symbols twice; the first row of each counts', {
        duplicates: result.duplicateRows,
        total: this.#duplicateRows,
      });
    }
    const unreadable = result.unreadable.length + result.malformedRows;
    if (unreadable > 0) {
      // A symbol whose row cannot be read never passes: that must be seen, not taken for low volume.
      this.#unreadableRows += unreadable;
      this.#ctx.logger.warn('ticker/24hr rows not counted: no symbol, or no readable quoteVolume', {
        withoutSymbol: result.malformedRows,
        unreadableVolume: result.unreadable.length,
        symbols: result.unreadable.slice(0, 20),
        total: this.#unreadableRows,
      });
    }
    const hot = result.symbols;
    if (hot.join() !== this.#hot.join()) {
      this.#ctx.logger.info('hot symbols', { count: hot.length, symbols: hot.slice(0, 20) });
    }
    this.#hot = hot;
    this.#hotAt = now;
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
