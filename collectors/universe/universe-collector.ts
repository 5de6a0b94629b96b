// Reads the exchange's contract list and 24 h volumes, and sets the hub's symbol registry and volume ranks.

import type { Decimal } from '../../ts/exact/decimal.js';
import { MalformedResponseError } from '../../ts/exchange/exchange-errors.js';
import { arrayOf, dec, objectAt, parseJson, str } from '../../ts/exchange/json-shape.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';

export interface UniverseCollectorOptions {
  readonly intervalMs: number;
  /** Restrict the universe to these symbols (empty: every tradable USDT perpetual). */
  readonly symbols: readonly string[];
}

/** One row of `GET /fapi/v1/ticker/24hr` that ranking needs. */
interface Volume {
  readonly symbol: string;
  readonly quoteVolume: Decimal;
}

function decodeVolumes(body: Buffer): Volume[] {
  return arrayOf(parseJson(body), '$', (value, at) => {
    const o = objectAt(value, at);
    return { symbol: str(o, 'symbol'), quoteVolume: dec(o, 'quoteVolume') };
  });
}

/**
 * The universe (DESIGN.md 2): contracts that are trading, perpetual, quoted in USDT and not
 * index-like, from exchangeInfo; then ranked by 24 h quote volume for the hot-kline collectors.
 * The hub keeps ids stable: symbols are only ever appended to its registry.
 */
export class UniverseCollector implements Collector {
  readonly kind = 'universe' as const;
  readonly #ctx: CollectorContext;
  readonly #options: UniverseCollectorOptions;
  readonly #loop: PollLoop;
  #universe: string[] = [];
  #ranked: string[] = [];

  constructor(ctx: CollectorContext, options: UniverseCollectorOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#loop = new PollLoop({ intervalMs: options.intervalMs, logger: ctx.logger }, () => this.refresh());
    // A restarted hub has lost its registry and ranks: give them back at once.
    ctx.hub.onState((state) => {
      if (state !== 'ready' || this.#universe.length === 0) return;
      this.#publish().catch((error: unknown) => {
        // The next refresh publishes again; until then pollers wait for a registry.
        ctx.logger.warn('could not give the universe to the reconnected hub', {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** The current universe and ranking. */
  get universe(): readonly string[] {
    return this.#universe;
  }
  get ranked(): readonly string[] {
    return this.#ranked;
  }

  status(): CollectorStatus {
    return pollStatus(this.kind, this.#loop, this.#ctx.link, {
      symbols: this.#universe.length,
      top: this.#ranked.slice(0, 5).join(','),
    });
  }

  /** Reads exchangeInfo and 24 h tickers and publishes both to the hub. */
  async refresh(): Promise<void> {
    const { api, logger } = this.#ctx;
    const body = (await api.exchangeInfo()).body;
    const info = parseExchangeInfo(body);
    const wanted = new Set(this.#options.symbols);
    const tradable = info.symbols.filter((s) => s.tradable && (wanted.size === 0 || wanted.has(s.symbol)));
    // Published, an empty universe stops every kline poller until the next refresh (a day): keep
    // the last one and let the poll loop retry (counted, logged, backing off).
    if (tradable.length === 0 && this.#universe.length > 0) {
      throw new MalformedResponseError(
        'GET',
        '/fapi/v1/exchangeInfo',
        `no tradable contract among ${info.symbols.length} listed; keeping the ${this.#universe.length} symbols of the last refresh`,
        body.subarray(0, 200).toString('utf8'),
      );
    }
    const missing = [...wanted].filter((name) => !tradable.some((s) => s.symbol === name));
    if (missing.length > 0)
      logger.warn('configured symbols are not tradable on the exchange', { missing: missing.join(',') });
    this.#universe = tradable.map((s) => s.symbol);
    const volumes = decodeVolumes((await api.ticker24h()).body);
    const inUniverse = new Set(this.#universe);
    this.#ranked = volumes
      .filter((v) => inUniverse.has(v.symbol))
      .sort((a, b) => b.quoteVolume.cmp(a.quoteVolume) || a.symbol.localeCompare(b.symbol))
      .map((v) => v.symbol);
    await this.#publish();
    logger.info('universe refreshed', {
      symbols: this.#universe.length,
      top: this.#ranked.slice(0, 3).join(','),
    });
  }

  async #publish(): Promise<void> {
    const { hub } = this.#ctx;
    if (hub.state !== 'ready') return;
    await hub.setSymbols(this.#universe);
    await hub.setRanks(this.#ranked);
  }
}
