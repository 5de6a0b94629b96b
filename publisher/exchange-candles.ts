// Candles for the charts from the exchange's public klines endpoint (market data is not in the records unless kept), cached per symbol.
import { isUnknownSymbol, UNKNOWN_SYMBOL_CODE } from '../ts/exchange/exchange-errors.js';
import type { KlineInterval, UsdmApi } from '../ts/exchange/usdm-api.js';
import type { Logger } from '../ts/log/logger.js';
import { parseRestKlines } from '../ts/native/parse.js';
import type { Candle } from '../ts/publish/dashboard-documents.js';

/** Where chart candles come from. */
export interface CandleProvider {
  /** Closed and current candles of `symbol` since `since`, oldest first, at most `limit` (the newest). */
  candles(symbol: string, interval: string, since: number, limit: number): Promise<readonly Candle[]>;
}

/**
 * Reads klines over REST (weight 1–5 a call for up to 1,000 bars, paced by the client's weight
 * budget) and keeps each symbol's answer for `refreshMs`, so twenty charts cost about twenty calls a
 * minute however often the publisher runs.
 */
export class ExchangeCandles implements CandleProvider {
  readonly #api: UsdmApi;
  readonly #refreshMs: number;
  readonly #log: Logger;
  readonly #cache = new Map<string, { at: number; candles: readonly Candle[] }>();
  /** Symbols the exchange refused as unknown, each logged once. */
  readonly #unlisted = new Set<string>();

  constructor(api: UsdmApi, logger: Logger, refreshMs = 60_000) {
    this.#api = api;
    this.#log = logger;
    this.#refreshMs = refreshMs;
  }

  /**
   * A symbol the exchange does not list (delisted, with records still shown) has no candles: its
   * chart is empty, and the rest of the page is published as usual.
   */
  async candles(symbol: string, interval: string, since: number, limit: number): Promise<readonly Candle[]> {
    const key = `${symbol}|${interval}|${limit}`;
    const cached = this.#cache.get(key);
    const now = Date.now();
    let candles = cached !== undefined && now - cached.at < this.#refreshMs ? cached.candles : undefined;
    if (candles === undefined) {
      let response: Awaited<ReturnType<UsdmApi['klines']>>;
      try {
        response = await this.#api.klines(
          { symbol, interval: interval as KlineInterval, limit: Math.min(limit, 1500) },
          // A delisted symbol's refusal (-1121) is an answer here: the warning below says it once.
          { expectedCodes: [UNKNOWN_SYMBOL_CODE] },
        );
      } catch (error) {
        if (!isUnknownSymbol(error)) throw error;
        if (!this.#unlisted.has(symbol)) {
          if (this.#unlisted.size < 10_000) this.#unlisted.add(symbol);
          this.#log.warn(
            'no candles for a symbol the exchange does not list (delisted?); its chart is empty',
            {
              symbol,
            },
          );
        }
        this.#cache.set(key, { at: now, candles: [] });
        return [];
      }
      candles = parseRestKlines(response.body, response.serverTimeMs).map((k) => ({
        openTime: k.openTime,
        open: k.open,
        high: k.high,
        low: k.low,
        close: k.close,
        volume: k.volume,
      }));
      this.#cache.set(key, { at: now, candles });
      // Symbols that stopped trading drop out: nothing older than a few refreshes is kept.
      if (this.#cache.size > 100)
        for (const [k, v] of this.#cache) if (now - v.at > 5 * this.#refreshMs) this.#cache.delete(k);
    }
    return candles.filter((c) => c.openTime >= since).slice(-limit);
  }
}
