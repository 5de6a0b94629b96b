// Funding settlement: at every funding time each open position pays or receives −amount × mark × rate.

import type { Account } from './account.js';
import { MARGIN_ASSET } from './account.js';
import { money } from './binance-format.js';
import type { EngineContext } from './engine-context.js';
import type { OrderExecutor } from './order-executor.js';
import type { PositionState } from './position-state.js';

/** Binance's funding interval: 8 h, settled at 00:00, 08:00 and 16:00 UTC. */
export const DEFAULT_FUNDING_INTERVAL_MS = 8 * 60 * 60 * 1000;

/** Settles funding at multiples of the interval since the epoch, once per funding time. */
export class FundingSchedule {
  readonly #ctx: EngineContext;
  readonly #executor: OrderExecutor;
  readonly #interval: number;
  readonly #accounts: () => Iterable<Account>;
  /** Index of the last funding time settled (or passed before the engine started). */
  #lastSlot: number;

  constructor(
    ctx: EngineContext,
    executor: OrderExecutor,
    intervalMs: number,
    accounts: () => Iterable<Account>,
  ) {
    this.#ctx = ctx;
    this.#executor = executor;
    this.#interval = intervalMs;
    this.#accounts = accounts;
    this.#lastSlot = Math.floor(ctx.clock.now() / intervalMs);
  }

  /** The next funding time after `now`. */
  nextFundingTime(now: number): number {
    return (Math.floor(now / this.#interval) + 1) * this.#interval;
  }

  /** Settles every funding time in (last settled, now]; returns how many were settled. */
  advance(now: number): number {
    const slot = Math.floor(now / this.#interval);
    let settled = 0;
    while (this.#lastSlot < slot) {
      this.#lastSlot += 1;
      this.#settle(this.#lastSlot * this.#interval);
      settled += 1;
    }
    return settled;
  }

  #settle(fundingTime: number): void {
    const { market, income, ids, logger } = this.#ctx;
    for (const account of this.#accounts()) {
      const paid: PositionState[] = [];
      for (const position of account.openPositions()) {
        const mark = market.markPrice(position.symbol);
        const rate = market.fundingRate(position.symbol);
        const payment = money(position.amount.neg().mul(mark).mul(rate));
        if (payment.isZero()) continue;
        const spec = market.spec(position.symbol);
        if (spec === undefined) continue;
        const now = this.#ctx.clock.now();
        if (account.settings(position.symbol, spec.maxLeverage).marginType === 'ISOLATED') {
          position.isolatedWallet = position.isolatedWallet.add(payment);
          account.balanceUpdateTime = now;
        } else {
          account.adjustCrossWallet(payment, now);
        }
        income.record({
          accountId: account.id,
          symbol: position.symbol,
          incomeType: 'FUNDING_FEE',
          income: payment,
          asset: MARGIN_ASSET,
          info: 'FUNDING_FEE',
          time: now,
          tranId: ids.nextTranId(),
          tradeId: '',
        });
        paid.push(position);
      }
      if (paid.length > 0) {
        this.#executor.emitAccountUpdate(account, 'FUNDING_FEE', paid);
        logger.debug('funding settled', { account: account.id, fundingTime, positions: paid.length });
      }
    }
  }
}
