// Split mode: member i's share of an order is the step-snapped cumulative i+1/N of it minus the snapped i/N, so the shares never add up past the order.
import { Decimal } from '../ts/exact/decimal.js';
import type { SymbolFilterSet } from '../ts/native/filters.js';

/** Digits kept when dividing before snapping (far below any exchange step). */
const DIVISION_SCALE = 18;

/**
 * The share of member `index` (0-based) of `members` in an order of `quantity`: the lot-step
 * snap (native filters, rounding down) of `quantity × (index+1)/members` minus that of
 * `quantity × index/members`. The shares telescope: their sum is the snapped whole, never more
 * than `quantity`, and they differ by at most one step (the remainder steps go to the later
 * members). A share may be zero (an order of fewer steps than members).
 */
export function splitShare(
  filters: SymbolFilterSet,
  quantity: Decimal,
  index: number,
  members: number,
  market: boolean,
): Decimal {
  if (!Number.isInteger(members) || members < 1) throw new RangeError(`members must be ≥ 1, got ${members}`);
  if (!Number.isInteger(index) || index < 0 || index >= members)
    throw new RangeError(`index must be in [0, ${members}), got ${index}`);
  const upTo = (k: number): Decimal =>
    k === 0
      ? Decimal.ZERO
      : filters.snapQuantity(
          quantity.mul(Decimal.fromInt(k)).div(Decimal.fromInt(members), DIVISION_SCALE, 'down'),
          market,
        );
  return upTo(index + 1).sub(upTo(index));
}
