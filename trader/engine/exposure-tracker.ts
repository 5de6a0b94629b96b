// What the engine expects a symbol's position to become: the account's position plus orders still on their way.
import { Decimal } from '../../ts/exact/decimal.js';
import type { PositionState } from './market-data.js';

interface UnreflectedFill {
  readonly qty: Decimal;
  readonly time: number;
}

/**
 * Per symbol: the signed quantity of submitted intents not filled yet, and fills the account's
 * position may not show yet (a live account learns of a fill through the hub a moment later; a
 * fill is reflected once the position's update time reaches the fill's time). The target planner
 * works from `expected`, so a decision taken while an order is in flight is not sent twice.
 */
export class ExposureTracker {
  readonly #pending = new Map<string, Decimal>();
  readonly #fills = new Map<string, UnreflectedFill[]>();

  /** An intent of `signedQty` was submitted. */
  submitted(symbol: string, signedQty: Decimal): void {
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).add(signedQty));
  }

  /** `signedQty` of it filled at exchange time `time`. */
  filled(symbol: string, signedQty: Decimal, time: number): void {
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).sub(signedQty));
    const list = this.#fills.get(symbol) ?? [];
    list.push({ qty: signedQty, time });
    this.#fills.set(symbol, list);
  }

  /** An intent ended with `signedRemainder` never filled. */
  finished(symbol: string, signedRemainder: Decimal): void {
    if (signedRemainder.isZero()) return;
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).sub(signedRemainder));
  }

  /** Quantity still to fill of submitted intents. */
  pending(symbol: string): Decimal {
    return this.#pending.get(symbol) ?? Decimal.ZERO;
  }

  /** The position `symbol` will have once everything submitted has filled. */
  expected(symbol: string, position: PositionState): Decimal {
    let amount = position.amount.add(this.pending(symbol));
    const fills = this.#fills.get(symbol);
    if (fills !== undefined) {
      const unreflected = fills.filter((f) => f.time > position.updateTime);
      if (unreflected.length !== fills.length) this.#fills.set(symbol, unreflected);
      for (const f of unreflected) amount = amount.add(f.qty);
    }
    return amount;
  }
}
