// Polls income history (realized PnL, commission, funding) and sends the ban list it implies to the hub.
import { parseJson } from '../../ts/exchange/json-shape.js';
import { decodeIncomes, type IncomeRecord } from '../../ts/exchange/usdm-decoders.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';
import { type BanDecision, BanRules, type BanThresholds, DEFAULT_BAN_THRESHOLDS } from './ban-rules.js';

const DAY_MS = 86_400_000;
/** Binance's largest page. */
const PAGE_LIMIT = 1000;
/** Pages read per poll before yielding to the next poll (bounds one poll's weight). */
const MAX_PAGES = 10;
/** How far past the exchange's clock a row's time may lie before it is taken for a wrong unit (µs), ms. */
const MAX_FUTURE_SKEW_MS = 60_000;

export interface IncomePollerOptions {
  readonly intervalMs: number;
  readonly thresholds?: BanThresholds;
  /** Called with each page that brought new rows (it may repeat known ones: recorders upsert by `tranId`). */
  readonly onIncome?: (rows: readonly IncomeRecord[]) => void;
}

/**
 * Reads new income rows since the newest one seen (the last 24 h at start), keeps the 24 h window
 * in `BanRules`, and sends the ban list to the hub whenever it changes (and on every poll after a
 * hub reconnect, since the hub's ban list is last-writer).
 */
export class IncomePoller implements Collector {
  readonly kind = 'income' as const;
  readonly #ctx: CollectorContext;
  readonly #options: IncomePollerOptions;
  readonly #rules: BanRules;
  readonly #loop: PollLoop;
  #sentKey: string | undefined;
  #rows = 0;
  /** Rows refused for a time outside `[startTime, exchange now]` (µs or seconds instead of ms). */
  #rejected = 0;
  /** The newest sane row time of any type or asset: where the next page starts. */
  #cursor: number | undefined;
  #decision: BanDecision | undefined;

  constructor(ctx: CollectorContext, options: IncomePollerOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#rules = new BanRules(options.thresholds ?? DEFAULT_BAN_THRESHOLDS);
    this.#loop = new PollLoop({ intervalMs: options.intervalMs, logger: ctx.logger }, () => this.#poll());
    ctx.hub.onState((state) => {
      if (state === 'ready') this.#sentKey = undefined;
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** The last decision: banned symbols and 24 h PnL. */
  get decision(): BanDecision | undefined {
    return this.#decision;
  }

  status(): CollectorStatus {
    const d = this.#decision;
    return pollStatus(this.kind, this.#loop, this.#ctx.link, {
      rows: this.#rows,
      rejected: this.#rejected,
      bannedAll: d?.all === true ? 'yes' : 'no',
      bannedSymbols: d?.symbols.join(',') ?? '',
      account24h: d?.account24h.toString() ?? '',
    });
  }

  async #poll(): Promise<void> {
    const { api, link } = this.#ctx;
    const now = Date.now();
    let start = Math.max(this.#cursor ?? now - DAY_MS, now - DAY_MS);
    for (let page = 0; page < MAX_PAGES; page++) {
      const response = await api.income({ startTime: start, limit: PAGE_LIMIT });
      const all = decodeIncomes(parseJson(response.body));
      const rows = this.#sane(all, start, response.serverTimeMs);
      const added = this.#rules.add(rows);
      this.#rows += added;
      if (added > 0) this.#options.onIncome?.(rows);
      // Advanced by every row, not only the PnL ones kept: a full page of other rows (fees paid in
      // BNB, transfers) would otherwise be asked for again on every poll and nothing after it read.
      let newest: number | undefined;
      for (const r of rows) newest = newest === undefined ? r.time : Math.max(newest, r.time);
      if (newest !== undefined) this.#cursor = Math.max(this.#cursor ?? newest, newest);
      if (all.length < PAGE_LIMIT || newest === undefined || newest <= start) break;
      start = newest;
    }
    const decision = this.#rules.decide(now);
    this.#decision = decision;
    if (!link.ready) return;
    const ids = decision.symbols.flatMap((s) => {
      const id = link.symbolId(s);
      return id === undefined ? [] : [id];
    });
    const key = `${decision.all}:${ids.join(',')}`;
    if (key === this.#sentKey) return;
    if (decision.all || decision.symbols.length > 0) {
      this.#ctx.logger.warn('ban list changed', {
        all: decision.all,
        symbols: decision.symbols.join(','),
        account24h: decision.account24h.toString(),
      });
    }
    link.encoder.setBanList({ all: decision.all, symbols: ids });
    if (link.flush()) this.#sentKey = key;
  }

  /**
   * Drops, counts and logs rows whose time cannot be right: before the `startTime` asked for, or
   * past the exchange's clock (µs or seconds instead of ms). Kept, a µs row would stay in the 24 h
   * window for ever (its loss banning trading) and move the next `startTime` centuries ahead.
   */
  #sane(rows: readonly IncomeRecord[], startTime: number, serverNow: number): readonly IncomeRecord[] {
    const latest = serverNow + MAX_FUTURE_SKEW_MS;
    const sane = rows.filter((r) => r.time >= startTime && r.time <= latest);
    const refused = rows.length - sane.length;
    if (refused === 0) return rows;
    this.#rejected += refused;
    const first = rows.find((r) => r.time < startTime || r.time > latest);
    this.#ctx.logger.warn('income rows refused: time outside the window asked for', {
      refused,
      startTime,
      latest,
      tranId: first?.tranId,
      time: first?.time,
      total: this.#rejected,
    });
    return sane;
  }
}
