// The markets the dashboard charts before anything is traded: the hub's most active symbols, else the configured ones.
import type { Logger } from '../ts/log/logger.js';

/** What {@link WatchedMarkets} reads: the hub's symbols by 24 h quote volume, highest first. */
export type RanksReader = (top: number) => Promise<{ symbols: readonly string[]; updatedAt: number | null }>;

/**
 * Answers "which markets are worth a chart" on a fresh system. The universe collector ranks the
 * universe (restricted to `symbols` when configured) by 24 h quote volume in the hub; when the hub
 * is unreachable or has no ranks yet, the configured symbols stand in. A failed read is logged once
 * per run of failures, never thrown: the rest of the dashboard is published either way.
 */
export class WatchedMarkets {
  readonly #ranks: RanksReader | undefined;
  readonly #configured: readonly string[];
  readonly #log: Logger;
  #failing = false;

  constructor(ranks: RanksReader | undefined, configured: readonly string[], logger: Logger) {
    this.#ranks = ranks;
    this.#configured = configured;
    this.#log = logger;
  }

  /** At most `limit` symbols, most active first. */
  async symbols(limit: number): Promise<readonly string[]> {
    if (limit <= 0) return [];
    if (this.#ranks !== undefined) {
      try {
        const { symbols, updatedAt } = await this.#ranks(limit);
        if (this.#failing) this.#log.info('hub ranks readable again; charts follow the most active markets');
        this.#failing = false;
        if (updatedAt !== null && symbols.length > 0) return symbols.slice(0, limit);
      } catch (error) {
        if (!this.#failing)
          this.#log.warn('hub ranks unreadable; charting the configured symbols', {
            error: error instanceof Error ? error.message : String(error),
          });
        this.#failing = true;
      }
    }
    return this.#configured.slice(0, limit);
  }
}
