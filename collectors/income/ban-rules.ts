// The loss rules that ban trading a symbol, or everything, from recent realized income (DESIGN.md 6).
import type { BanListSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { IncomeRecord } from '../../ts/exchange/usdm-decoders.js';

/** Thresholds (negative USDT amounts): a loss at or below one bans. Defaults from the seeds. */
export interface BanThresholds {
  /** A symbol's net realized PnL over 4 h. */
  readonly symbol4h: Decimal;
  /** A symbol's net realized PnL over 24 h. */
  readonly symbol24h: Decimal;
  /** The account's net realized PnL over 24 h: bans everything (`ALL`). */
  readonly account24h: Decimal;
}

export const DEFAULT_BAN_THRESHOLDS: BanThresholds = {
  symbol4h: Decimal.parse('-150'),
  symbol24h: Decimal.parse('-1800'),
  account24h: Decimal.parse('-3000'),
};

/** The thresholds of the `risk.banList` settings (the income collector's and a backtest's). */
export function banThresholds(settings: BanListSettings): BanThresholds {
  return {
    symbol4h: Decimal.parse(settings.symbol4h),
    symbol24h: Decimal.parse(settings.symbol24h),
    account24h: Decimal.parse(settings.account24h),
  };
}

/** Income types that make up realized PnL: the trade's PnL net of its fees and funding. */
export const PNL_INCOME_TYPES: ReadonlySet<string> = new Set(['REALIZED_PNL', 'COMMISSION', 'FUNDING_FEE']);

const HOUR = 3_600_000;

/** The ban list a set of income rows implies at `now`. */
export interface BanDecision {
  readonly all: boolean;
  /** Banned symbols, ascending. */
  readonly symbols: readonly string[];
  /** Net PnL per symbol over 24 h, exact, for the log and the dashboard. */
  readonly pnl24h: ReadonlyMap<string, Decimal>;
  /** Net PnL per symbol over 4 h (symbols with income in that window), for the log. */
  readonly pnl4h: ReadonlyMap<string, Decimal>;
  readonly account24h: Decimal;
}

/**
 * Keeps the last 24 h of PnL income (deduplicated by type and `tranId`) and computes the ban list:
 * a symbol is banned when its net realized PnL over 4 h ≤ `symbol4h` or over 24 h ≤ `symbol24h`;
 * everything when the account's 24 h total ≤ `account24h`. Only USDT income counts.
 */
export class BanRules {
  readonly #thresholds: BanThresholds;
  readonly #rows = new Map<string, IncomeRecord>();

  constructor(thresholds: BanThresholds = DEFAULT_BAN_THRESHOLDS) {
    this.#thresholds = thresholds;
  }

  /** Adds rows (repeats are ignored); returns how many were new. */
  add(rows: readonly IncomeRecord[]): number {
    let added = 0;
    for (const row of rows) {
      if (!PNL_INCOME_TYPES.has(row.incomeType) || row.asset !== 'USDT') continue;
      const key = `${row.incomeType}:${row.tranId}`;
      if (this.#rows.has(key)) continue;
      this.#rows.set(key, row);
      added++;
    }
    return added;
  }

  /** The newest income time seen (the next poll starts there), or undefined. */
  newestTime(): number | undefined {
    let newest: number | undefined;
    for (const row of this.#rows.values())
      newest = newest === undefined ? row.time : Math.max(newest, row.time);
    return newest;
  }

  /** Drops rows older than 24 h and decides the ban list at `now`. */
  decide(now: number): BanDecision {
    const dayAgo = now - 24 * HOUR;
    const fourHoursAgo = now - 4 * HOUR;
    const day = new Map<string, Decimal>();
    const four = new Map<string, Decimal>();
    let account = Decimal.ZERO;
    for (const [key, row] of this.#rows) {
      if (row.time <= dayAgo) {
        this.#rows.delete(key);
        continue;
      }
      account = account.add(row.income);
      if (row.symbol === '') continue;
      day.set(row.symbol, (day.get(row.symbol) ?? Decimal.ZERO).add(row.income));
      if (row.time > fourHoursAgo)
        four.set(row.symbol, (four.get(row.symbol) ?? Decimal.ZERO).add(row.income));
    }
    const banned = new Set<string>();
    for (const [symbol, pnl] of day) if (pnl.lte(this.#thresholds.symbol24h)) banned.add(symbol);
    for (const [symbol, pnl] of four) if (pnl.lte(this.#thresholds.symbol4h)) banned.add(symbol);
    return {
      all: account.lte(this.#thresholds.account24h),
      symbols: [...banned].sort(),
      pnl24h: day,
      pnl4h: four,
      account24h: account,
    };
  }
}
