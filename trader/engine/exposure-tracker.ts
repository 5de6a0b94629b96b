// What the engine expects a symbol's position to become: the account's position plus orders still on their way.
import { Decimal } from '../../ts/exact/decimal.js';
import type { PositionState } from './market-data.js';

/** Resolved orders whose late trade events are still skipped; beyond this the oldest is forgotten. */
const MAX_CREDITED_ORDERS = 1_000;

interface UnreflectedFill {
  readonly qty: Decimal;
  readonly time: number;
}

/**
 * Per symbol: the signed quantity of intents approved by risk and not handed to the executor yet,
 * of submitted intents not filled yet, and fills the account's position may not show yet (a live
 * account learns of a fill through the hub a moment later; a fill is reflected once the
 * position's update time reaches the fill's time). The target planner and the risk gate work
 * from `expected`, so a decision taken while an order is in flight is not sent twice, and an
 * approved leg counts toward the notional limits before the next one is judged.
 */
export class ExposureTracker {
  readonly #pending = new Map<string, Decimal>();
  /** Approved intents whose order event still waits on the engine's queue. */
  readonly #approved = new Map<string, Decimal>();
  readonly #fills = new Map<string, UnreflectedFill[]>();
  /**
   * Per client order id: fill quantity (absolute) already counted from a query when an unknown
   * outcome was resolved, so the order's trade events, if they still come, are not counted twice.
   */
  readonly #credited = new Map<string, Decimal>();

  /**
   * An intent of `signedQty` passed risk; its order event waits on the queue. It counts as pending
   * from now, so every intent judged after it (a later leg, another symbol of the same decision)
   * sees it, not a book the order has not reached yet.
   */
  approved(symbol: string, signedQty: Decimal): void {
    this.#approved.set(symbol, (this.#approved.get(symbol) ?? Decimal.ZERO).add(signedQty));
  }

  /** An approved intent of `signedQty` went to the executor, whose `submitted` counts it from now. */
  handedOver(symbol: string, signedQty: Decimal): void {
    const left = (this.#approved.get(symbol) ?? Decimal.ZERO).sub(signedQty);
    if (left.isZero()) this.#approved.delete(symbol);
    else this.#approved.set(symbol, left);
  }

  /** An intent of `signedQty` was submitted. */
  submitted(symbol: string, signedQty: Decimal): void {
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).add(signedQty));
  }

  /**
   * `signedQty` of it filled at exchange time `time` (a trade event of order `clientOrderId`).
   * The part a resolved query already counted is skipped.
   */
  filled(symbol: string, signedQty: Decimal, time: number, clientOrderId?: string): void {
    let qty = signedQty;
    const credit = clientOrderId === undefined ? undefined : this.#credited.get(clientOrderId);
    if (credit !== undefined && clientOrderId !== undefined) {
      const taken = Decimal.min(credit, qty.abs());
      const left = credit.sub(taken);
      if (left.isZero()) this.#credited.delete(clientOrderId);
      else this.#credited.set(clientOrderId, left);
      qty = qty.lt(Decimal.ZERO) ? qty.add(taken) : qty.sub(taken);
      if (qty.isZero()) return;
    }
    this.#record(symbol, qty, time);
  }

  /**
   * `signedQty` of an order not sent for an intent of this process (one sent before a restart, a
   * ladder stop that triggered, a liquidation, a manual trade) filled at exchange time `time`: the account's position will show it, so it
   * counts until then, but no intent of the engine was waiting for it, so `pending` is left alone
   * (taking it from `pending` would leave the symbol looking busy and off by it for good).
   */
  filledElsewhere(symbol: string, signedQty: Decimal, time: number): void {
    if (signedQty.isZero()) return;
    this.#unreflected(symbol, signedQty, time);
  }

  /**
   * Order `clientOrderId`, whose outcome was unknown, was found to have filled `signedQty` that no
   * trade event has reported yet (a query answered before the events, or the events were lost):
   * counted now as a fill at `time`; its trade events, if they come later, are skipped.
   */
  filledByQuery(symbol: string, clientOrderId: string, signedQty: Decimal, time: number): void {
    if (signedQty.isZero()) return;
    this.#record(symbol, signedQty, time);
    this.#credited.set(
      clientOrderId,
      (this.#credited.get(clientOrderId) ?? Decimal.ZERO).add(signedQty.abs()),
    );
    // Bounded: credits of orders whose events never come are dropped oldest first.
    if (this.#credited.size > MAX_CREDITED_ORDERS) {
      const oldest = this.#credited.keys().next().value;
      if (oldest !== undefined) this.#credited.delete(oldest);
    }
  }

  #record(symbol: string, signedQty: Decimal, time: number): void {
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).sub(signedQty));
    this.#unreflected(symbol, signedQty, time);
  }

  #unreflected(symbol: string, signedQty: Decimal, time: number): void {
    const list = this.#fills.get(symbol) ?? [];
    list.push({ qty: signedQty, time });
    this.#fills.set(symbol, list);
  }

  /** An intent ended with `signedRemainder` never filled. */
  finished(symbol: string, signedRemainder: Decimal): void {
    if (signedRemainder.isZero()) return;
    this.#pending.set(symbol, (this.#pending.get(symbol) ?? Decimal.ZERO).sub(signedRemainder));
  }

  /** Quantity still to fill of approved and submitted intents. */
  pending(symbol: string): Decimal {
    const submitted = this.#pending.get(symbol) ?? Decimal.ZERO;
    const approved = this.#approved.get(symbol);
    return approved === undefined ? submitted : submitted.add(approved);
  }

  /**
   * Symbols whose expected position may differ from the account's: intents approved or on their
   * way, or fills the account may not show yet. The notional limits value these beside the
   * account's open positions (an order resting in a symbol the account shows flat is exposure too).
   */
  symbols(): string[] {
    const out = new Set<string>();
    for (const [symbol, qty] of this.#approved) if (!qty.isZero()) out.add(symbol);
    for (const [symbol, qty] of this.#pending) if (!qty.isZero()) out.add(symbol);
    for (const [symbol, fills] of this.#fills) if (fills.length > 0) out.add(symbol);
    return [...out];
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
