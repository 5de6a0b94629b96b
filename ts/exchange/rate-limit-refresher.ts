// Reads exchangeInfo's rateLimits into a process's weight budget at start and periodically, and syncs the exchange clock the windows are counted in.
import type { Logger } from '../log/logger.js';
import { parseJson } from './json-shape.js';
import { limitsFromRateLimits } from './rate-limits.js';
import type { UsdmApi } from './usdm-api.js';
import { decodeRateLimits } from './usdm-decoders.js';

/** After a failed read the next one comes this soon (the regular period when that is shorter). */
const RETRY_MS = 30_000;

/** Options of a {@link RateLimitRefresher}. */
export interface RateLimitRefresherOptions {
  /** Share of the exchange's limits to pace to (`exchange.weightShare`). */
  readonly share: number;
  /** Period of the re-reads (`exchange.budget.limitsRefreshMs`). */
  readonly everyMs: number;
  readonly log: Logger;
}

/**
 * Keeps the budget's limits at `share` of what exchangeInfo's `rateLimits` states (REQUEST_WEIGHT
 * per minute, ORDERS per 10 s and per minute) instead of a constant. The first round also measures
 * the exchange clock's offset, because the budget counts the exchange's UTC minutes. A failed read
 * keeps the limits in force, is logged, and is retried on the next round (one timer, never a loop).
 */
export class RateLimitRefresher {
  readonly #api: UsdmApi;
  readonly #options: RateLimitRefresherOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;
  #failures = 0;

  constructor(api: UsdmApi, options: RateLimitRefresherOptions) {
    this.#api = api;
    this.#options = options;
  }

  /** Reads failed since start. */
  get failures(): number {
    return this.#failures;
  }

  /** Reads the limits now, then every `everyMs`. */
  start(): void {
    void this.#round();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** One read; true when the limits were set from the exchange. */
  async refresh(): Promise<boolean> {
    const rest = this.#api.rest;
    try {
      if (!this.#synced) {
        await rest.syncTime();
        this.#synced = true;
      }
      const body = (await this.#api.exchangeInfo()).body;
      const rateLimits = decodeRateLimits(parseJson(body));
      const budget = rest.budget;
      const next = limitsFromRateLimits(rateLimits, this.#options.share, budget.limits);
      const now = budget.limits;
      if (
        next.perMinute !== now.perMinute ||
        next.ordersPer10s !== now.ordersPer10s ||
        next.ordersPerMinute !== now.ordersPerMinute
      ) {
        budget.setLimits(next);
      }
      return true;
    } catch (error) {
      this.#failures += 1;
      this.#options.log.warn('exchangeInfo rateLimits not read; the budget keeps its limits', {
        failures: this.#failures,
        perMinute: rest.budget.limits.perMinute,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  async #round(): Promise<void> {
    if (this.#stopped) return;
    const ok = await this.refresh();
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => void this.#round(),
      ok ? this.#options.everyMs : Math.min(RETRY_MS, this.#options.everyMs),
    );
    this.#timer.unref();
  }
}
