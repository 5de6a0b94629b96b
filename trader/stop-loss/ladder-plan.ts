// The shape of a stop-loss ladder (seed 000's makerStopLoss): rung sizes and trigger prices from a position, snapped by the native filters.
import { Decimal } from '../../ts/exact/decimal.js';
import type { SymbolFilterFields, SymbolFilterSet } from '../../ts/native/filters.js';
import type { OrderSide } from '../engine/events.js';
import { partsNeeded, splitEvenly } from '../engine/quantity-split.js';

/**
 * One planned stop order. A rung larger than the lot's maxQty goes out as several orders at the
 * same trigger, `part` 0, 1, … of it; a rung that fits in one order has `part` null.
 */
export interface LadderRung {
  readonly rung: number;
  readonly part: number | null;
  readonly side: OrderSide;
  readonly quantity: Decimal;
  readonly triggerPrice: Decimal;
}

/** The lot limits a ladder is planned within. */
export interface LadderLot {
  /** The largest quantity one stop order may have (see {@link stopMaxQty}); undefined: no limit. */
  readonly maxQty: Decimal | undefined;
  /** The most stop orders one ladder may have: past it the ladder is capped ({@link CappedLadder}). */
  readonly maxOrders: number;
}

/**
 * The ladder of a position larger than the stops the symbol may hold can close
 * (`maxOrders × maxQty`): `rungs` is the largest ladder the exchange takes, `maxOrders` stops of
 * at most maxQty spread over the rungs from the first (each rung gets as many as its full size
 * needs, one at a time in turn), covering `covered` of `quantity`. The rest of the position has no
 * stop: the caller places these, reports the shortfall, and the coverage watch alerts for it.
 * Before, such a position got no ladder at all.
 */
export class CappedLadder {
  constructor(
    readonly rungs: readonly LadderRung[],
    /** |position|. */
    readonly quantity: Decimal,
    /** What the capped ladder's stops close together. */
    readonly covered: Decimal,
    readonly maxQty: Decimal,
    /** The stop orders a full ladder would need. */
    readonly ordersNeeded: number,
    readonly maxOrders: number,
  ) {}

  /** What was capped, in words (sizes exact). */
  get message(): string {
    return (
      `a ladder for ${this.quantity.toString()} needs ${this.ordersNeeded} stop orders of at most ` +
      `${this.maxQty.toString()} each, more than the ${this.maxOrders} allowed: ${this.rungs.length} ` +
      `stops cover ${this.covered.toString()} of it`
    );
  }
}

/**
 * The most a ladder may have whatever the exchange's open-stop limit says: a position needing more
 * stops than this gets a ladder capped at it ({@link CappedLadder}), not an absurd number of orders.
 */
export const MAX_LADDER_ORDERS = 40;

/**
 * The largest quantity of one stop order: ladder stops are STOP_MARKET orders, which the exchange
 * checks against MARKET_LOT_SIZE's maxQty; a symbol listed without it falls back to LOT_SIZE's
 * (the only bound known). A zero or absent maxQty imposes nothing, as on the exchange.
 */
export function stopMaxQty(fields: SymbolFilterFields | undefined): Decimal | undefined {
  for (const text of [fields?.marketMaxQty, fields?.maxQty]) {
    // exchangeInfo's parser may hand a missing filter field on as null, whatever the type says.
    const value = typeof text === 'string' ? Decimal.tryParse(text) : undefined;
    if (value !== undefined && value.sign() > 0) return value;
  }
  return undefined;
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
 * closing side, |amount| split as evenly as the (market) lot step allows, the larger parts (one step
 * more) on the nearest rungs ({@link splitEvenly}); rung i triggers `firstPercent + i × stepPercent`
 * percent beyond the entry on the losing side (below it for a long, above for a short), snapped to
 * the tick toward the entry (the safe side: up for a sell stop, down for a buy stop), or one tick
 * away from it when that would reach the entry. A position too small for `rungs` parts of at least
 * one step and the lot's minQty gets as many stops as it can fill, on the nearest rungs (a position
 * of three steps: one step at each of 5, 5.5 and 6 %), one stop of the whole position at the
 * first rung when even two cannot be had; nothing for a flat position. The stops sum to |amount|
 * snapped down to the step.
 *
 * With `lot`, a rung over `lot.maxQty` is split into as few orders at its trigger as keep each
 * within maxQty (near-equal, multiples of the step, summing exactly to the rung), since the
 * exchange refuses a larger one (-4005) and would leave that part unprotected on every retry. A
 * ladder that needs more than `lot.maxOrders` orders is capped at that many ({@link CappedLadder});
 * without a maxQty (every rung one order) the position is split over the nearest `lot.maxOrders`
 * rungs instead.
 */
export function planLadder(
  amount: Decimal,
  entry: Decimal,
  filters: SymbolFilterSet,
  shape: LadderShape,
): LadderRung[];
export function planLadder(
  amount: Decimal,
  entry: Decimal,
  filters: SymbolFilterSet,
  shape: LadderShape,
  lot: LadderLot,
): LadderRung[] | CappedLadder;
export function planLadder(
  amount: Decimal,
  entry: Decimal,
  filters: SymbolFilterSet,
  shape: LadderShape,
  lot?: LadderLot,
): LadderRung[] | CappedLadder {
  if (lot === undefined) return planRungs(amount, entry, filters, shape, shape.rungs);
  const maxOrders = Math.max(1, lot.maxOrders);
  // maxQty snapped down to the step, so that parts of at most it are valid quantities themselves.
  const max = lot.maxQty === undefined ? undefined : filters.snapQuantity(lot.maxQty, true);
  // Without a maxQty every rung is one order: no more rungs than orders allowed.
  if (max === undefined || max.sign() <= 0) return planRungs(amount, entry, filters, shape, maxOrders);
  const rungs = planRungs(amount, entry, filters, shape, shape.rungs);
  // Counted before any part is built: a position of a million lots must not become a million objects.
  const counts = rungs.map((r) => partsNeeded(r.quantity, max));
  const orders = counts.reduce((sum, n) => sum + n, 0);
  if (orders <= maxOrders) return rungs.flatMap((r, i) => splitRung(r, counts[i] ?? 1, filters));
  // Too many: the orders go to the rungs one at a time in turn from the first, none past what its
  // full size needs (a bounded loop: every pass gives at least one, and at most maxOrders are given).
  const given = rungs.map(() => 0);
  let left = maxOrders;
  while (left > 0)
    for (let i = 0; i < rungs.length && left > 0; i++)
      if ((given[i] ?? 0) < (counts[i] ?? 0)) {
        given[i] = (given[i] ?? 0) + 1;
        left -= 1;
      }
  const capped = rungs.flatMap((r, i): LadderRung[] => {
    const n = given[i] ?? 0;
    if (n === (counts[i] ?? 0)) return splitRung(r, n, filters);
    // Short of its full size: n stops of exactly maxQty.
    return Array.from({ length: n }, (_, part) => ({ ...r, part: n === 1 ? null : part, quantity: max }));
  });
  const covered = capped.reduce((sum, r) => sum.add(r.quantity), Decimal.ZERO);
  return new CappedLadder(capped, amount.abs(), covered, max, orders, maxOrders);
}

/**
 * The rungs of {@link planLadder}, one order each, at most `maxStops` of them: the position split
 * evenly over the nearest rungs with a valid trigger, as many as parts of at least one step and the
 * lot's minQty allow.
 */
function planRungs(
  amount: Decimal,
  entry: Decimal,
  filters: SymbolFilterSet,
  shape: LadderShape,
  maxStops: number,
): LadderRung[] {
  if (amount.isZero() || entry.sign() <= 0) return [];
  const side = closingSide(amount);
  const size = filters.snapQuantity(amount.abs(), true);
  if (size.sign() <= 0) return [];
  // The rungs a stop can be placed at, nearest first.
  const slots: Array<{ rung: number; triggerPrice: Decimal }> = [];
  for (let i = 0; i < shape.rungs; i++) {
    const triggerPrice = rungTrigger(entry, side, shape, i, filters);
    if (triggerPrice !== undefined) slots.push({ rung: i, triggerPrice });
  }
  // The most stops whose even split of the position has no part under one step or the lot's
  // minQty (the exchange would refuse it, leaving that part unprotected); the smallest part of an
  // even split of `size` in k is `size / k` snapped down to the step.
  let stops = Math.min(slots.length, Math.max(1, maxStops));
  while (stops > 1) {
    const smallest = filters.snapQuantity(size.div(Decimal.fromInt(stops), size.scale + 6, 'down'), true);
    if (smallest.sign() > 0 && !underMinQty(filters, smallest)) break;
    stops -= 1;
  }
  const quantities = splitEvenly(size, stops, (q) => filters.snapQuantity(q, true));
  return slots.slice(0, stops).map((slot, i) => ({
    rung: slot.rung,
    part: null,
    side,
    quantity: quantities[i] ?? Decimal.ZERO,
    triggerPrice: slot.triggerPrice,
  }));
}

/**
 * The trigger of rung `i` for a stop on `side`, or undefined when it has none (a sell stop at or
 * under zero).
 */
function rungTrigger(
  entry: Decimal,
  side: OrderSide,
  shape: LadderShape,
  i: number,
  filters: SymbolFilterSet,
): Decimal | undefined {
  const percent = shape.firstPercent.add(shape.stepPercent.mul(Decimal.fromInt(i)));
  const factor = side === 'SELL' ? HUNDRED.sub(percent) : HUNDRED.add(percent);
  if (factor.sign() <= 0) return undefined;
  const raw = entry.mul(factor).div(HUNDRED, entry.scale + factor.scale + 2, 'down');
  let triggerPrice = filters.snapPrice(raw, side);
  // A tick coarser than the distance snaps the trigger onto (or past) the entry: that is no
  // stop-loss, and with the mark just past the entry the exchange refuses it as passed and the
  // rung is closed at market. Such a rung goes one tick further out instead.
  if (side === 'SELL' ? triggerPrice.gte(entry) : triggerPrice.lte(entry))
    triggerPrice = filters.snapPrice(raw, side === 'SELL' ? 'BUY' : 'SELL');
  return triggerPrice.sign() > 0 ? triggerPrice : undefined;
}

/** `rung` as `parts` orders at its trigger, near-equal on the step ({@link splitEvenly}). */
function splitRung(rung: LadderRung, parts: number, filters: SymbolFilterSet): LadderRung[] {
  if (parts <= 1) return [rung];
  return splitEvenly(rung.quantity, parts, (q) => filters.snapQuantity(q, true)).map((quantity, part) => ({
    ...rung,
    part,
    quantity,
  }));
}

/** Whether `quantity` is under the (market) lot's minQty, which the exchange refuses. */
function underMinQty(filters: SymbolFilterSet, quantity: Decimal): boolean {
  return (
    quantity.sign() > 0 && filters.checkOrder(undefined, quantity, true)?.reason === 'quantity_below_min'
  );
}
