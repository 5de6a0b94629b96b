// What to do with one symbol's stops given its position: keep the ladder (cancelling extras), place a new one, or wait — a pure function, so every case is testable.
import { Decimal } from '../../ts/exact/decimal.js';
import { compareGenerations, parseLadderStopId } from './ladder-ids.js';
import { type CappedLadder, closingSide, type LadderRung } from './ladder-plan.js';
import type { StopOrder } from './stop-orders.js';

/** Everything the decision looks at, for one symbol at one moment. */
export interface LadderInputs {
  /** Signed position. */
  readonly amount: Decimal;
  readonly entry: Decimal;
  /** The ladder the position calls for now ({@link planLadder}). */
  readonly plan: readonly LadderRung[];
  /**
   * What a ladder should close: |amount| (when undefined), or less when the position is larger
   * than the stops the symbol may hold can close (a {@link CappedLadder}'s `covered`).
   */
  readonly target?: Decimal | undefined;
  /** The symbol's waiting ladder stops as the exchange listed them (any generation). */
  readonly stops: readonly StopOrder[];
  readonly minCoverage: Decimal;
  readonly maxCoverage: Decimal;
  /** A ladder whose stops sit further than this percent of the entry from the plan's is replaced. */
  readonly repricePercent: Decimal;
  readonly now: number;
  /** When a stop of this symbol last triggered (the position follows a moment later). */
  readonly lastTriggerAt: number | undefined;
  readonly settleMs: number;
  /** Whether the engine has orders for the symbol on their way (the position is about to change). */
  readonly busy: boolean;
  /** Since when the position has been covered under `minCoverage`, if it is. */
  readonly underCoveredSince: number | undefined;
  /** Since when decisions for this symbol have been waiting for the engine's orders, if they have. */
  readonly waitingSince: number | undefined;
  readonly graceMs: number;
}

/**
 * `keep`: the ladder of `generation` protects the position (null: the position is flat); `cancel`
 * lists every other ladder stop (duplicates, leftovers, stops of a closed position).
 * `replace`: place the planned ladder, confirm it, and only then cancel `old`; where the exchange's
 * open-stop limit leaves too little room, `old` is cancelled from its front as room is needed.
 * `wait`: the position is about to change; look again at `retryAt`.
 */
export type LadderDecision =
  | { readonly kind: 'keep'; readonly generation: string | null; readonly cancel: readonly StopOrder[] }
  | {
      readonly kind: 'replace';
      readonly reason: string;
      /**
       * Every stop of the symbol, in the order to cancel them when room must be made: leftovers
       * beside the ladder that protects most first, then that ladder's stops, furthest trigger first.
       */
      readonly old: readonly StopOrder[];
    }
  | { readonly kind: 'wait'; readonly reason: string; readonly retryAt: number };

const HUNDRED = Decimal.fromInt(100);

/** The quantity `stops` would close of a position of `amount` (stops on the closing side only). */
export function coverage(stops: readonly StopOrder[], amount: Decimal): Decimal {
  if (amount.isZero()) return Decimal.ZERO;
  const side = closingSide(amount);
  let covered = Decimal.ZERO;
  for (const s of stops) if (s.side === side) covered = covered.add(s.quantity);
  return covered;
}

/** Whether `covered` lies within `[min, max] × |amount|`. */
export function coverageWithin(covered: Decimal, amount: Decimal, min: Decimal, max: Decimal): boolean {
  const size = amount.abs();
  return covered.gte(size.mul(min)) && covered.lte(size.mul(max));
}

/** The stops grouped by ladder generation, newest first. */
export function ladders(stops: readonly StopOrder[]): Array<{ generation: string; stops: StopOrder[] }> {
  const groups = new Map<string, StopOrder[]>();
  for (const s of stops) {
    const slot = parseLadderStopId(s.clientAlgoId);
    if (slot === undefined) continue;
    const list = groups.get(slot.generation) ?? [];
    list.push(s);
    groups.set(slot.generation, list);
  }
  return [...groups.entries()]
    .map(([generation, list]) => ({ generation, stops: list }))
    .sort((a, b) => compareGenerations(b.generation, a.generation));
}

/** Why `group` does not protect the position as planned, or `undefined` when it does. */
function ladderProblem(group: readonly StopOrder[], input: LadderInputs): string | undefined {
  const side = closingSide(input.amount);
  if (group.some((s) => s.side !== side)) return 'stops on the wrong side';
  const covered = coverage(group, input.amount);
  const target = input.target ?? input.amount.abs();
  if (!coverageWithin(covered, target, input.minCoverage, input.maxCoverage))
    return `stops cover ${covered.toString()} of ${target.toString()}`;
  const limit = input.entry
    .mul(input.repricePercent)
    .div(HUNDRED, input.entry.scale + input.repricePercent.scale + 2);
  for (const stop of group) {
    const slot = parseLadderStopId(stop.clientAlgoId);
    const planned = input.plan.find((r) => r.rung === slot?.rung);
    if (planned === undefined || stop.triggerPrice === null) continue;
    if (stop.triggerPrice.sub(planned.triggerPrice).abs().gt(limit))
      return `rung ${planned.rung} triggers at ${stop.triggerPrice.toString()}, planned ${planned.triggerPrice.toString()}`;
  }
  return undefined;
}

/**
 * The decision for one symbol. Flat: keep nothing, cancel every stop. Otherwise the newest ladder
 * that is on the closing side, covers `[minCoverage, maxCoverage]` of |position| (of `target` when
 * the position is larger than a ladder may cover) and sits where the
 * plan puts it is kept and every other stop cancelled. Without such a ladder a new one is placed —
 * at once when the position has no stop at all, else after waiting `settleMs` past a trigger (the
 * position shrinks a moment after its stop fired) and while the engine's orders for the symbol are
 * on their way, but never longer than half the grace (under coverage, or waiting at all: an order
 * whose outcome stays unknown keeps the engine busy until it is resolved).
 */
export function decideLadder(input: LadderInputs): LadderDecision {
  if (input.amount.isZero()) return { kind: 'keep', generation: null, cancel: input.stops };
  for (const group of ladders(input.stops)) {
    if (ladderProblem(group.stops, input) !== undefined) continue;
    const cancel = input.stops.filter((s) => !group.stops.includes(s));
    return { kind: 'keep', generation: group.generation, cancel };
  }
  // Nothing to plan from (no entry price yet, or a position under one step): leave the stops alone.
  if (input.plan.length === 0)
    return {
      kind: 'wait',
      reason: 'no ladder can be planned for the position yet',
      retryAt: input.now + 1000,
    };
  const newest = ladders(input.stops)[0];
  const reason =
    newest === undefined
      ? 'no stop protects the position'
      : (ladderProblem(newest.stops, input) ?? 'no ladder');
  if (input.stops.length === 0) return { kind: 'replace', reason, old: [] };
  if (input.lastTriggerAt !== undefined && input.now - input.lastTriggerAt < input.settleMs)
    return {
      kind: 'wait',
      reason: 'a stop triggered: the position follows',
      retryAt: input.lastTriggerAt + input.settleMs,
    };
  const since = Math.min(input.underCoveredSince ?? input.now, input.waitingSince ?? input.now);
  if (input.busy && input.now - since < input.graceMs / 2)
    return { kind: 'wait', reason: 'orders for the symbol are on their way', retryAt: input.now + 200 };
  // Cancelling anything before the new ladder stands would leave the position under-covered, so
  // nothing is (make-before-break); only the exchange's open-stop limit can force a cancel first, and
  // then the leftovers go before the ladder that protects most (newest on a tie).
  const size = input.amount.abs();
  let best: StopOrder[] = [];
  let bestCover = Decimal.ZERO;
  for (const group of ladders(input.stops)) {
    const cover = Decimal.min(coverage(group.stops, input.amount), size);
    if (cover.gt(bestCover)) {
      best = group.stops;
      bestCover = cover;
    }
  }
  const leftovers = input.stops.filter((s) => !best.includes(s));
  const fromFurthest = [...best].sort((a, b) => distance(b, input.entry).cmp(distance(a, input.entry)));
  return { kind: 'replace', reason, old: [...leftovers, ...fromFurthest] };
}

/** How far a stop's trigger lies from the entry (a stop without a trigger counts as nearest). */
function distance(stop: StopOrder, entry: Decimal): Decimal {
  return stop.triggerPrice === null ? Decimal.ZERO : stop.triggerPrice.sub(entry).abs();
}
