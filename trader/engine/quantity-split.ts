// Splits an order quantity above the lot's maxQty into the fewest near-equal parts on the step: one rule for the target planner's legs and the stop-loss ladder's rungs.
import { Decimal } from '../../ts/exact/decimal.js';

/** How many orders of at most `max` (> 0) carry `quantity`: ⌈quantity / max⌉, at least 1. */
export function partsNeeded(quantity: Decimal, max: Decimal): number {
  const whole = quantity.div(max, 0, 'ceil');
  // Beyond a safe integer the count is only compared with a small limit: any huge number will do.
  return Number.isSafeInteger(whole.toNumber()) ? Math.max(1, whole.toNumber()) : Number.MAX_SAFE_INTEGER;
}

/**
 * `quantity` (on the step) as `parts` orders. Each takes the remaining quantity less the rest
 * snapped down to the step (`snapDown`), so the parts differ by at most a step, none exceeds
 * ⌈quantity / parts⌉ rounded up to the step (≤ maxQty when `parts` is {@link partsNeeded} of a
 * maxQty on the step), each is over half of that (far above minQty, where a remainder of the
 * greedy split could fall under it and be refused), and they sum exactly to `quantity`.
 */
export function splitEvenly(quantity: Decimal, parts: number, snapDown: (q: Decimal) => Decimal): Decimal[] {
  if (parts <= 1) return [quantity];
  const out: Decimal[] = [];
  let remaining = quantity;
  for (let k = parts; k >= 1; k--) {
    const rest = snapDown(
      remaining.mul(Decimal.fromInt(k - 1)).div(Decimal.fromInt(k), remaining.scale + 6, 'down'),
    );
    out.push(remaining.sub(rest));
    remaining = rest;
  }
  return out;
}
