import { describe, expect, it } from 'vitest';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { VirtualClock } from '../engine/engine-clock.js';
import type { RiskEvent } from '../risk/risk-events.js';
import { KnownStops } from './known-stops.js';
import { coverage, decideLadder } from './ladder-decision.js';
import { GenerationClock } from './ladder-ids.js';
import { LadderPlacer, type PlacerStats } from './ladder-placer.js';
import { planLadder } from './ladder-plan.js';
import type { StopOrder, StopOrderRequest, StopOrderVenue } from './stop-orders.js';
import { FILTERS, ladder, ladderInputs, SHAPE } from './testing/ladder-stops.js';

const d = Decimal.parse;

/** An exchange's list of waiting stops with its open-stop limit (-4045 past it), noting the coverage after every change. */
class LimitedVenue implements StopOrderVenue {
  readonly open = new Map<string, StopOrder>();
  readonly coverages: Decimal[] = [];
  most = 0;
  refuse = false;
  /** Cancels in flight now, and the most at once: each takes a real millisecond, as a round trip would. */
  cancelling = 0;
  mostCancelling = 0;

  constructor(
    readonly limit: number,
    readonly amount: Decimal,
  ) {}

  async placeStop(r: StopOrderRequest): Promise<StopOrder> {
    if (this.refuse) throw new Error('-1001 Internal error; unable to process your request.');
    if (this.open.size >= this.limit) throw new Error('-4045 Reach max stop order limit.');
    const stop: StopOrder = { ...r, status: 'NEW', reduceOnly: true, updateTime: 0 };
    this.open.set(r.clientAlgoId, stop);
    this.#note();
    return stop;
  }

  async cancelStop(_symbol: string, id: string): Promise<void> {
    this.cancelling += 1;
    this.mostCancelling = Math.max(this.mostCancelling, this.cancelling);
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.cancelling -= 1;
    this.open.delete(id);
    this.#note();
  }

  async openStops(): Promise<StopOrder[]> {
    return [...this.open.values()];
  }

  #note(): void {
    this.most = Math.max(this.most, this.open.size);
    this.coverages.push(coverage([...this.open.values()], this.amount));
  }
}

/** Replaces what `existing` leaves on a position of `amount` at 100, as the ladders would. */
async function replaceOn(amount: string, existing: StopOrder[], limit = 10, refuse = false) {
  const venue = new LimitedVenue(limit, d(amount));
  venue.refuse = refuse;
  for (const s of existing) venue.open.set(s.clientAlgoId, s);
  const settings = { ...defaultRiskSettings().stopLoss, maxOpenStops: limit };
  const failures: RiskEvent[] = [];
  const stats: PlacerStats = {
    laddersPlaced: 0,
    stopsPlaced: 0,
    stopsCancelled: 0,
    passedRungs: 0,
    notConfirmed: 0,
  };
  const placer = new LadderPlacer({
    venue,
    settings,
    clock: new VirtualClock(1_000_000),
    events: { emit: (e) => failures.push(e) },
    logger: silentLogger(),
    known: new KnownStops(),
    gens: new GenerationClock(),
    stats,
    fail: (symbol, detail) =>
      failures.push({ kind: 'stop-loss-failure', symbol, detail, at: 0 } as RiskEvent),
  });
  const plan = planLadder(d(amount), d('100'), FILTERS, SHAPE);
  const decision = decideLadder(ladderInputs(amount, '100', existing));
  if (decision.kind !== 'replace') throw new Error(`expected a replacement, got ${decision.kind}`);
  const outcome = await placer.replace('BTCUSDT', plan, decision.reason, decision.old);
  return { venue, outcome, failures };
}

describe('LadderPlacer', () => {
  it('replaces make-before-break when the new ladder fits beside the old stops', async () => {
    const old = ladder('a1', '0.010', '100');
    const { venue, outcome, failures } = await replaceOn('0.019', old);
    expect(outcome.ok).toBe(true);
    expect(failures).toEqual([]);
    expect(venue.most).toBe(10);
    // Never less than the old ladder covered, at any step.
    expect(venue.coverages.every((c) => c.gte(d('0.010')))).toBe(true);
    expect(coverage([...venue.open.values()], d('0.019')).toString()).toBe('0.019');
  });

  it('cancels the old ladder in one round trip once the new one is confirmed, so the two overlap as briefly as can be', async () => {
    // The position shrank: both ladders carry the same trigger prices, so while both are up a dip
    // would fill a rung of each and close more than either intends.
    const old = ladder('a1', '0.019', '100');
    const { venue, outcome, failures } = await replaceOn('0.010', old);
    expect(outcome.ok).toBe(true);
    expect(failures).toEqual([]);
    expect(venue.mostCancelling).toBe(old.length);
    expect([...venue.open.values()].map((s) => s.clientAlgoId.split('_')[1])).not.toContain('a1');
  });

  it('within the open-stop limit, keeps covering what the old stops covered (a crash left a partial ladder beside a full one)', async () => {
    // What a trader killed while cancelling its old ladder leaves: 3 stops of it beside the new one.
    const partial = ladder('a1', '0.010', '100').slice(2);
    const full = ladder('a2', '0.012', '100');
    const before = coverage([...partial, ...full], d('0.019'));
    const { venue, outcome, failures } = await replaceOn('0.019', [...partial, ...full]);
    expect(outcome.ok).toBe(true);
    expect(failures).toEqual([]);
    expect(venue.most).toBeLessThanOrEqual(10);
    // Room for 2 of the 5 new stops: the two largest go first, then the partial ladder makes room.
    expect(venue.coverages.every((c) => c.gte(before))).toBe(true);
    expect([...venue.open.values()].map((s) => s.clientAlgoId.split('_')[1])).not.toContain('a1');
    expect(coverage([...venue.open.values()], d('0.019')).toString()).toBe('0.019');
  });

  it('with no room at all, cancels the leftovers before the ladder that protects most and never passes the limit', async () => {
    const worse = ladder('a1', '0.005', '100');
    const best = ladder('a2', '0.012', '100');
    const { venue, outcome } = await replaceOn('0.019', [...worse, ...best]);
    expect(outcome.ok).toBe(true);
    expect(venue.most).toBe(10);
    // One old stop (0.001 of the worse ladder) goes for each new one placed: the coverage never
    // falls more than one old stop under the 0.017 it started at.
    expect(venue.coverages.every((c) => c.gte(d('0.016')))).toBe(true);
    expect(venue.open.size).toBe(5);
  });

  it('keeps the old stops when the first new stops are refused', async () => {
    const partial = ladder('a1', '0.010', '100').slice(2);
    const old = ladder('a2', '0.012', '100');
    const { venue, outcome, failures } = await replaceOn('0.019', [...partial, ...old], 10, true);
    expect(outcome.ok).toBe(false);
    expect(failures.length).toBeGreaterThan(0);
    // Nothing of the old ladder was cancelled for room the refused stops never took.
    for (const s of [...partial, ...old]) expect(venue.open.has(s.clientAlgoId)).toBe(true);
  });
});
