// Test fixture: the stops of a planned ladder as the exchange would list them (shared by the ladder decision and placer tests).
import { Decimal } from '../../../ts/exact/decimal.js';
import { SymbolFilterSet } from '../../../ts/native/filters.js';
import type { LadderInputs } from '../ladder-decision.js';
import { ladderStopId } from '../ladder-ids.js';
import { planLadder } from '../ladder-plan.js';
import type { StopOrder } from '../stop-orders.js';

/** BTCUSDT-like filters: tick 0.1, step 0.001. */
export const FILTERS = new SymbolFilterSet({
  tickSize: '0.1',
  stepSize: '0.001',
  minQty: '0.001',
  maxQty: '1000',
});
/** The seed's ladder: 5 rungs from 5 % beyond the entry, 0.5 % apart. */
export const SHAPE = { rungs: 5, firstPercent: Decimal.parse('5'), stepPercent: Decimal.parse('0.5') };

/** The stops of a ladder planned for `amount` at `entry`, as the exchange would list them. */
export function ladder(generation: string, amount: string, entry: string): StopOrder[] {
  return planLadder(Decimal.parse(amount), Decimal.parse(entry), FILTERS, SHAPE).map((r) => ({
    symbol: 'BTCUSDT',
    clientAlgoId: ladderStopId(generation, r.rung),
    side: r.side,
    quantity: r.quantity,
    triggerPrice: r.triggerPrice,
    status: 'NEW',
    reduceOnly: true,
    updateTime: 0,
  }));
}

/** Decision inputs for a position of `amount` at `entry` with `stops` open: the seed's coverage band, nothing pending. */
export function ladderInputs(
  amount: string,
  entry: string,
  stops: StopOrder[],
  more: Partial<LadderInputs> = {},
): LadderInputs {
  const d = Decimal.parse;
  return {
    amount: d(amount),
    entry: d(entry),
    plan: planLadder(d(amount), d(entry), FILTERS, SHAPE),
    stops,
    minCoverage: d('0.95'),
    maxCoverage: d('1.05'),
    repricePercent: d('1'),
    now: 10_000,
    lastTriggerAt: undefined,
    settleMs: 1000,
    busy: false,
    underCoveredSince: undefined,
    waitingSince: undefined,
    graceMs: 5000,
    ...more,
  };
}
