// The income history (`GET /fapi/v1/income`): transfers, realized PnL, commission and funding.
import type { Decimal } from '../../ts/exact/decimal.js';

export type IncomeType = 'TRANSFER' | 'REALIZED_PNL' | 'COMMISSION' | 'FUNDING_FEE' | 'INSURANCE_CLEAR';

/** Every `incomeType` Binance accepts as a filter; the simulator books only the five above. */
export const BINANCE_INCOME_TYPES = [
  'TRANSFER',
  'WELCOME_BONUS',
  'REALIZED_PNL',
  'FUNDING_FEE',
  'COMMISSION',
  'INSURANCE_CLEAR',
  'REFERRAL_KICKBACK',
  'COMMISSION_REBATE',
  'API_REBATE',
  'CONTEST_REWARD',
  'CROSS_COLLATERAL_TRANSFER',
  'OPTIONS_PREMIUM_FEE',
  'OPTIONS_SETTLE_PROFIT',
  'INTERNAL_TRANSFER',
  'AUTO_EXCHANGE',
  'DELIVERED_SETTELMENT',
  'COIN_SWAP_DEPOSIT',
  'COIN_SWAP_WITHDRAW',
  'POSITION_LIMIT_INCREASE_FEE',
  'STRATEGY_UMFUTURES_TRANSFER',
  'FEE_RETURN',
  'BFUSD_REWARD',
] as const;

/** One income row; `income` is signed (a commission is negative). */
export interface IncomeRow {
  readonly accountId: string;
  /** Empty for account-wide rows (transfers). */
  readonly symbol: string;
  readonly incomeType: IncomeType;
  readonly income: Decimal;
  readonly asset: string;
  readonly info: string;
  readonly time: number;
  /** Digits of an integer beyond 2^53, as Binance's funding fees have; written as a bare JSON number. */
  readonly tranId: string;
  /** The trade id for REALIZED_PNL / COMMISSION rows, else empty. */
  readonly tradeId: string;
}

/** Query of `GET /fapi/v1/income`. */
export interface IncomeQuery {
  readonly symbol?: string;
  readonly incomeType?: string;
  readonly startTime?: number;
  readonly endTime?: number;
  /** 1-based page of `limit` rows. */
  readonly page: number;
  readonly limit: number;
}

/** How far back Binance looks when neither startTime nor endTime is sent. */
export const DEFAULT_INCOME_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** Every income row, in time (and tranId) order. */
export class IncomeLedger {
  readonly #rows: IncomeRow[] = [];

  record(row: IncomeRow): void {
    this.#rows.push(row);
  }

  /** Rows of an account matching the query, oldest first; `now` anchors the default 7-day window. */
  query(accountId: string, q: IncomeQuery, now: number): IncomeRow[] {
    let start = q.startTime;
    let end = q.endTime;
    if (start === undefined && end === undefined) {
      start = now - DEFAULT_INCOME_WINDOW_MS;
      end = now;
    }
    const rows = this.#rows.filter(
      (r) =>
        r.accountId === accountId &&
        (q.symbol === undefined || r.symbol === q.symbol) &&
        (q.incomeType === undefined || r.incomeType === q.incomeType) &&
        (start === undefined || r.time >= start) &&
        (end === undefined || r.time <= end),
    );
    const offset = (q.page - 1) * q.limit;
    return rows.slice(offset, offset + q.limit);
  }
}
