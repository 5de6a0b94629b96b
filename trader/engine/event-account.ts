// An account kept from the venue's ACCOUNT_UPDATE events (paper and backtest, where the venue is in-process).
import { Decimal } from '../../ts/exact/decimal.js';
import type { UserEventObject } from '../../ts/native/parse.js';

/** One decoded ACCOUNT_UPDATE. */
export type AccountUpdate = NonNullable<UserEventObject['accountUpdate']>;

import type { AccountView, MarketData, PositionState } from './market-data.js';

const FLAT: PositionState = { amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: 0 };

/**
 * Positions and the USDT wallet as the venue's `ACCOUNT_UPDATE` events report them (newest event
 * time wins), valued at the market's last prices for equity. The paper venue's account is the
 * trader's own, so this is where its positions live.
 */
export class EventAccount implements AccountView {
  readonly #positions = new Map<string, PositionState>();
  readonly #market: MarketData;
  #wallet: Decimal | undefined;
  #walletTime = 0;

  constructor(market: MarketData, startingWallet?: Decimal) {
    this.#market = market;
    this.#wallet = startingWallet;
  }

  /** Applies one ACCOUNT_UPDATE (older than what is held: ignored). */
  apply(update: AccountUpdate): void {
    for (const b of update.balances) {
      if (b.asset !== 'USDT' || b.updateTime < this.#walletTime) continue;
      this.#wallet = Decimal.parse(b.walletBalance);
      this.#walletTime = b.updateTime;
    }
    for (const { symbol, position } of update.positions) {
      if (position.side !== 'BOTH') continue;
      const held = this.#positions.get(symbol);
      if (held !== undefined && held.updateTime > position.updateTime) continue;
      this.#positions.set(symbol, {
        amount: Decimal.parse(position.amount),
        entryPrice: Decimal.parse(position.entryPrice ?? '0'),
        updateTime: position.updateTime,
      });
    }
  }

  position(symbol: string): PositionState {
    return this.#positions.get(symbol) ?? FLAT;
  }

  wallet(): Decimal | undefined {
    return this.#wallet;
  }

  equity(): Decimal | undefined {
    if (this.#wallet === undefined) return undefined;
    let equity = this.#wallet;
    for (const [symbol, p] of this.#positions) {
      if (p.amount.isZero()) continue;
      const last = this.#market.lastPriceExact(symbol);
      if (last !== undefined) equity = equity.add(p.amount.mul(last.sub(p.entryPrice)));
    }
    return equity;
  }

  available(): Decimal | undefined {
    return this.equity();
  }

  openPositions(): string[] {
    return [...this.#positions.entries()].filter(([, p]) => !p.amount.isZero()).map(([s]) => s);
  }

  /** The venue's account is this one: every position it ever opens is reported here, so none is unknown. */
  positionsKnown(): boolean {
    return true;
  }
}
