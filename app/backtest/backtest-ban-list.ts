// A backtest's ban list: the income collector's BanRules over the run's own income, decided on the replay clock, read by the pre-trade gate as a trader reads the hub's.
import {
  type BanDecision,
  BanRules,
  type BanThresholds,
  banThresholds,
} from '../../collectors/income/ban-rules.js';
import type { BanListView, BanReason } from '../../trader/risk/market-inputs.js';
import type { BanListSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { IncomeRecord } from '../../ts/exchange/usdm-decoders.js';

const DAY_MS = 86_400_000;

/** The income rows booked at or after `startTime`, as `GET /fapi/v1/income` answers (the simulator's). */
export type IncomeReader = (startTime: number) => readonly IncomeRecord[];

/** A symbol, or everything, banned or allowed again, for the report's risk actions. */
export interface BanChange {
  readonly time: number;
  readonly action: 'ban' | 'unban';
  /** The symbol, or `null` for everything (`ALL`). */
  readonly symbol: string | null;
  /** The figures that decided it, for a person. */
  readonly reason: string;
}

/**
 * The ban list a backtest's pre-trade gate reads ({@link BanListView}, the seam the live trader
 * reads the hub's list through). Each {@link poll} is one poll of the income collector: the rows
 * booked since the newest one seen (the last 24 h at first), kept and judged by the collector's own
 * {@link BanRules} with the `risk.banList` thresholds, decided at the replay's time, so a ban lapses
 * when its losses roll out of the window. The income is read only after something was booked
 * ({@link noteIncome}); the decision is made at every poll.
 */
export class BacktestBanList implements BanListView {
  readonly #thresholds: BanThresholds;
  readonly #rules: BanRules;
  readonly #read: IncomeReader;
  /** The newest row time seen: where the next read starts (the collector's cursor). */
  #cursor: number | undefined;
  #unread = true;
  #all = false;
  #symbols: readonly string[] = [];

  constructor(settings: BanListSettings, read: IncomeReader) {
    this.#thresholds = banThresholds(settings);
    this.#rules = new BanRules(this.#thresholds);
    this.#read = read;
  }

  /** Something was booked (a fill's PnL and commission, a funding payment): the next poll reads the income. */
  noteIncome(): void {
    this.#unread = true;
  }

  /** Reads what was booked since the last read, decides the list at `now`, and returns what changed. */
  poll(now: number): BanChange[] {
    if (this.#unread) {
      this.#unread = false;
      const rows = this.#read(Math.max(this.#cursor ?? now - DAY_MS, now - DAY_MS));
      this.#rules.add(rows);
      for (const row of rows) this.#cursor = Math.max(this.#cursor ?? row.time, row.time);
    }
    return this.#apply(this.#rules.decide(now), now);
  }

  banned(symbol: string): BanReason | undefined {
    if (this.#all) return 'ALL';
    return this.#symbols.includes(symbol) ? 'SYMBOL' : undefined;
  }

  summary(): { all: boolean; symbols: string[] } {
    return { all: this.#all, symbols: [...this.#symbols] };
  }

  #apply(decision: BanDecision, now: number): BanChange[] {
    const changes: BanChange[] = [];
    const t = this.#thresholds;
    const account = `the account's realized PnL over 24 h is ${decision.account24h.toString()} USDT`;
    if (decision.all !== this.#all)
      changes.push(
        decision.all
          ? {
              time: now,
              action: 'ban',
              symbol: null,
              reason: `ALL: ${account} (limit ${t.account24h.toString()})`,
            }
          : { time: now, action: 'unban', symbol: null, reason: `ALL lifted: ${account}` },
      );
    const figures = (symbol: string): string =>
      `realized PnL ${(decision.pnl4h.get(symbol) ?? Decimal.ZERO).toString()} USDT over 4 h, ${(decision.pnl24h.get(symbol) ?? Decimal.ZERO).toString()} over 24 h`;
    const before = new Set(this.#symbols);
    const after = new Set(decision.symbols);
    for (const symbol of decision.symbols)
      if (!before.has(symbol))
        changes.push({
          time: now,
          action: 'ban',
          symbol,
          reason: `${symbol}: ${figures(symbol)} (limits ${t.symbol4h.toString()} over 4 h, ${t.symbol24h.toString()} over 24 h)`,
        });
    for (const symbol of this.#symbols)
      if (!after.has(symbol))
        changes.push({ time: now, action: 'unban', symbol, reason: `${symbol} lifted: ${figures(symbol)}` });
    this.#all = decision.all;
    this.#symbols = decision.symbols;
    return changes;
  }
}
