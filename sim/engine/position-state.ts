// One position (symbol × side) and the exact arithmetic of applying a fill to it.
import { Decimal } from '../../ts/exact/decimal.js';
import type { PositionSide } from '../../ts/native/book-layout.js';
import { money } from './binance-format.js';

export type { PositionSide };

/** Digits the engine keeps for an average entry price (shown rounded to 8). */
export const ENTRY_SCALE = 12;

/** What a fill did to a position. */
export interface FillEffect {
  /** Realized PnL of the closed part, rounded to 8 digits (before commission). */
  readonly realizedPnl: Decimal;
  /** Quantity that reduced the position (≥ 0). */
  readonly closedQty: Decimal;
  /** Quantity that opened or increased the position (≥ 0). */
  readonly openedQty: Decimal;
  /** |amount| before the fill. */
  readonly sizeBefore: Decimal;
}

/**
 * A position: signed amount (short is negative, also for hedge `SHORT`), weighted-average entry
 * price, the realized PnL accumulated since it was opened (`cr` of ACCOUNT_UPDATE), and the
 * isolated wallet when the symbol uses isolated margin.
 */
export class PositionState {
  amount: Decimal = Decimal.ZERO;
  entryPrice: Decimal = Decimal.ZERO;
  accumulatedRealized: Decimal = Decimal.ZERO;
  isolatedWallet: Decimal = Decimal.ZERO;
  updateTime = 0;

  constructor(
    readonly symbol: string,
    readonly side: PositionSide,
  ) {}

  /** Whether the position holds any quantity. */
  isOpen(): boolean {
    return !this.amount.isZero();
  }

  /**
   * Applies a fill of `signedQty` (positive buys, negative sells) at `price`. Increasing fills move
   * the entry to the quantity-weighted average; reducing fills realize (price − entry) × qty × sign;
   * a one-way fill that crosses zero closes the old side and opens the rest at `price`.
   */
  applyFill(signedQty: Decimal, price: Decimal, time: number): FillEffect {
    const before = this.amount;
    const sizeBefore = before.abs();
    let realized = Decimal.ZERO;
    let closedQty = Decimal.ZERO;
    let openedQty = Decimal.ZERO;
    if (before.isZero() || before.sign() === signedQty.sign()) {
      openedQty = signedQty.abs();
      const after = before.add(signedQty);
      const cost = sizeBefore.mul(this.entryPrice).add(openedQty.mul(price));
      this.entryPrice = cost.div(after.abs(), ENTRY_SCALE);
      this.amount = after;
    } else {
      closedQty = Decimal.min(signedQty.abs(), sizeBefore);
      const direction = Decimal.fromInt(before.sign());
      realized = money(price.sub(this.entryPrice).mul(closedQty).mul(direction));
      const rest = signedQty.abs().sub(closedQty);
      if (rest.isZero()) {
        this.amount = before.add(signedQty);
        if (this.amount.isZero()) this.entryPrice = Decimal.ZERO;
      } else {
        openedQty = rest;
        this.amount = rest.mul(Decimal.fromInt(signedQty.sign()));
        this.entryPrice = price.rescale(ENTRY_SCALE);
      }
      this.accumulatedRealized = this.accumulatedRealized.add(realized);
    }
    this.updateTime = time;
    return { realizedPnl: realized, closedQty, openedQty, sizeBefore };
  }

  /** Unrealized PnL at `mark`: amount × (mark − entry), 8 digits. */
  unrealizedPnl(mark: Decimal): Decimal {
    return this.amount.isZero() ? Decimal.ZERO : money(this.amount.mul(mark.sub(this.entryPrice)));
  }

  /**
   * Break-even price: the entry moved by the taker fee that closing will cost (Binance's figure:
   * entry × (1 + fee) for a long, entry × (1 − fee) for a short), 8 digits.
   */
  breakEvenPrice(takerFee: Decimal): Decimal {
    if (this.amount.isZero()) return Decimal.ZERO;
    const factor = this.amount.sign() > 0 ? Decimal.ONE.add(takerFee) : Decimal.ONE.sub(takerFee);
    return this.entryPrice.mul(factor).rescale(8, 'half-even');
  }
}
