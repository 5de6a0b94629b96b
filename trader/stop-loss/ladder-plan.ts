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
 * closing side, each |amount| / rungs snapped down to the (market) lot step, the remainder on the
 * last; rung i triggers `firstPercent + i × stepPercent` percent beyond the entry on the losing side
 * (below it for a long, above for a short), snapped to the tick toward the entry (the safe side:
 * up for a sell stop, down for a buy stop), or one tick away from it when that would reach the
 * entry. Rungs whose size snaps to zero or under the lot's minQty are left out, so a position
 * smaller than `rungs` steps gets fewer, larger stops; nothing for a flat position.
 *
 * With `lot`, a rung over `lot.maxQty` is split into as few orders at its trigger as keep each
 * within maxQty (near-equal, multiples of the step, summing exactly to the rung), since the
 * exchange refuses a larger one (-4005) and would leave that part unprotected on every retry. A
 * ladder that needs more than `lot.maxOrders` orders is capped at that many ({@link CappedLadder});
 * without a maxQty (every rung one order) the deepest rungs past the limit join the last kept one.
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
  const rungs = planRungs(amount, entry, filters, shape);
  if (lot === undefined) return rungs;
  const maxOrders = Math.max(1, lot.maxOrders);
  // maxQty snapped down to the step, so that parts of at most it are valid quantities themselves.
  const max = lot.maxQty === undefined ? undefined : filters.snapQuantity(lot.maxQty, true);
  if (max === undefined || max.sign() <= 0) return mergeDeepest(rungs, maxOrders);
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
 * `rungs` (one order each) within `maxOrders`: the deepest rungs past the limit give their quantity
 * to the last one kept, so the position stays covered in full with fewer triggers. The
 * configuration refuses more rungs than `maxOpenStops`; this keeps the planner total anyway.
 */
function mergeDeepest(rungs: LadderRung[], maxOrders: number): LadderRung[] {
  if (rungs.length <= maxOrders) return rungs;
  const kept = rungs.slice(0, maxOrders);
  const last = kept[kept.length - 1];
  if (last === undefined) return rungs;
  const extra = rungs.slice(maxOrders).reduce((sum, r) => sum.add(r.quantity), Decimal.ZERO);
  kept[kept.length - 1] = { ...last, quantity: last.quantity.add(extra) };
  return kept;
}

/** The rungs of {@link planLadder}, one order each. */
function planRungs(
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
    rungs.push({ rung: i, part: null, side, quantity, triggerPrice });
  }
  return rungs;
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
