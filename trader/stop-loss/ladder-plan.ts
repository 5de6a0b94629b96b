// The shape of a stop-loss ladder (seed 000's makerStopLoss): rung sizes and trigger prices from a position, snapped by the native filters.
import { Decimal } from '../../ts/exact/decimal.js';
import type { SymbolFilterSet } from '../../ts/native/filters.js';
import type { OrderSide } from '../engine/events.js';

/** One planned stop. */
export interface LadderRung {
  readonly rung: number;
  readonly side: OrderSide;
  readonly quantity: Decimal;
  readonly triggerPrice: Decimal;
}

/** The ladder's settings as exact numbers. */
export interface LadderShape {
  readonly rungs: number;
  /** Percent beyond the entry of the first stop (5). */
  readonly firstPercent: Decimal;
  /** Percent added for each further stop (0.5). */
  readonly stepPercent: Decimal;
}

const HUNDRED = Decimal.fromInt(100);

/** The side that closes a position of `amount` (a long is closed by selling). */
export function closingSide(amount: Decimal): OrderSide {
  return amount.sign() > 0 ? 'SELL' : 'BUY';
}

/**
 * The ladder for a position of `amount` entered at `entry`: `rungs` reduce-only stops on the
 * closing side, each |amount| / rungs snapped down to the (market) lot step, the remainder on the
 * last; rung i triggers `firstPercent + i × stepPercent` percent beyond the entry on the losing side
 * (below it for a long, above for a short), snapped to the tick toward the entry (the safe side:
 * up for a sell stop, down for a buy stop), or one tick away from it when that would reach the
 * entry. Rungs whose size snaps to zero or under the lot's minQty are left out, so a position
 * smaller than `rungs` steps gets fewer, larger stops; nothing for a flat position.
 */
export function planLadder(
  amount: Decimal,
  entry: Decimal,
  filters: SymbolFilterSet,
  shape: LadderShape,
): LadderRung[] {
  if (amount.isZero() || entry.sign() <= 0) return [];
  const side = closingSide(amount);
  const size = amount.abs();
  const share = filters.snapQuantity(size.div(Decimal.fromInt(shape.rungs), size.scale + 6, 'down'), true);
  // A share under the lot's minQty would be refused by the exchange and leave those rungs' part
  // unprotected: such rungs are left out like zero-sized ones, their quantity going to the last.
  const each = underMinQty(filters, share) ? Decimal.ZERO : share;
  const rungs: LadderRung[] = [];
  let placed = Decimal.ZERO;
  for (let i = 0; i < shape.rungs; i++) {
    const last = i === shape.rungs - 1;
    const quantity = last ? filters.snapQuantity(size.sub(placed), true) : each;
    if (quantity.sign() <= 0) continue;
    const percent = shape.firstPercent.add(shape.stepPercent.mul(Decimal.fromInt(i)));
    const factor = side === 'SELL' ? HUNDRED.sub(percent) : HUNDRED.add(percent);
    if (factor.sign() <= 0) continue;
    const raw = entry.mul(factor).div(HUNDRED, entry.scale + factor.scale + 2, 'down');
    let triggerPrice = filters.snapPrice(raw, side);
    // A tick coarser than the distance snaps the trigger onto (or past) the entry: that is no
    // stop-loss, and with the mark just past the entry the exchange refuses it as passed and the
    // rung is closed at market. Such a rung goes one tick further out instead.
    if (side === 'SELL' ? triggerPrice.gte(entry) : triggerPrice.lte(entry))
      triggerPrice = filters.snapPrice(raw, side === 'SELL' ? 'BUY' : 'SELL');
    if (triggerPrice.sign() <= 0) continue;
    placed = placed.add(quantity);
    rungs.push({ rung: i, side, quantity, triggerPrice });
  }
  return rungs;
}

/** Whether `quantity` is under the (market) lot's minQty, which the exchange refuses. */
function underMinQty(filters: SymbolFilterSet, quantity: Decimal): boolean {
  return (
    quantity.sign() > 0 && filters.checkOrder(undefined, quantity, true)?.reason === 'quantity_below_min'
  );
}
