import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { decideLadder } from './ladder-decision.js';
import type { StopOrder } from './stop-orders.js';
import { ladder, ladderInputs } from './testing/ladder-stops.js';

const _d = Decimal.parse;

const ids = (stops: readonly StopOrder[]) => stops.map((s) => s.clientAlgoId).sort();

describe('decideLadder', () => {
  it('places a ladder at once for a position without stops', () => {
    expect(decideLadder(ladderInputs('1', '100', []))).toMatchObject({
      kind: 'replace',
      old: [],
    });
  });

  it('keeps a ladder that covers the position where the plan puts it', () => {
    expect(decideLadder(ladderInputs('1', '100', ladder('a1', '1', '100')))).toEqual({
      kind: 'keep',
      generation: 'a1',
      cancel: [],
    });
  });

  it('keeps a ladder within 95–105 % of a position that moved a little (the seed: 1,000 → 1,001 is left alone)', () => {
    expect(decideLadder(ladderInputs('1.04', '100.2', ladder('a1', '1', '100'))).kind).toBe('keep');
    expect(decideLadder(ladderInputs('0.96', '100', ladder('a1', '1', '100'))).kind).toBe('keep');
  });

  it('replaces the ladder of a position grown by 20 %, cancelling the old one only afterwards', () => {
    const old = ladder('a1', '1', '100');
    const decision = decideLadder(ladderInputs('1.2', '101', old));
    expect(decision.kind).toBe('replace');
    expect(decision.kind === 'replace' && ids(decision.old)).toEqual(ids(old));
  });

  it('orders the old stops for cancelling: leftovers beside the best ladder, then its stops from the furthest trigger', () => {
    const partial = ladder('a1', '1', '100').slice(0, 2);
    const full = ladder('a2', '1', '100');
    const decision = decideLadder(ladderInputs('1.5', '100', [...partial, ...full]));
    if (decision.kind !== 'replace') throw new Error(`expected replace, got ${decision.kind}`);
    expect(ids(decision.old.slice(0, 2))).toEqual(ids(partial));
    // A long's stops lie under the entry: the furthest is the lowest trigger.
    const triggers = decision.old.slice(2).map((s) => s.triggerPrice?.toString());
    expect(triggers).toEqual(['93.0', '93.5', '94.0', '94.5', '95.0']);
  });

  it('replaces the ladder of a position that shrank (the rungs would close too much too early) or flipped', () => {
    expect(decideLadder(ladderInputs('0.8', '100', ladder('a1', '1', '100'))).kind).toBe('replace');
    expect(decideLadder(ladderInputs('-1', '100', ladder('a1', '1', '100'))).kind).toBe('replace');
  });

  it('replaces a ladder whose stops sit more than 1 % of the entry away from the plan', () => {
    expect(decideLadder(ladderInputs('1', '102', ladder('a1', '1', '100'))).kind).toBe('replace');
    expect(decideLadder(ladderInputs('1', '100.5', ladder('a1', '1', '100'))).kind).toBe('keep');
  });

  it('keeps the newest good ladder and cancels every other stop: duplicates, partial ladders, leftovers', () => {
    const older = ladder('a1', '1', '100');
    const partial = ladder('a3', '1', '100').slice(0, 2);
    const newest = ladder('a2', '1', '100');
    const decision = decideLadder(ladderInputs('1', '100', [...older, ...partial, ...newest]));
    expect(decision.kind).toBe('keep');
    expect(decision.kind === 'keep' && decision.generation).toBe('a2');
    expect(decision.kind === 'keep' && ids(decision.cancel)).toEqual(ids([...older, ...partial]));
  });

  it('cancels every stop of a closed position', () => {
    const stops = [...ladder('a1', '1', '100'), ...ladder('a2', '-1', '90')];
    const decision = decideLadder(ladderInputs('0', '0', stops));
    expect(decision).toMatchObject({ kind: 'keep', generation: null });
    expect(decision.kind === 'keep' && ids(decision.cancel)).toEqual(ids(stops));
  });

  it('waits for the position to follow a stop that just triggered', () => {
    // Rung 0 fired: the ladder covers 0.8 of a position that still shows 1 for a moment.
    const rest = ladder('a1', '1', '100').slice(1);
    const decision = decideLadder(ladderInputs('1', '100', rest, { lastTriggerAt: 9_500 }));
    expect(decision).toMatchObject({ kind: 'wait', retryAt: 10_500 });
    expect(decideLadder(ladderInputs('1', '100', rest, { lastTriggerAt: 8_000 })).kind).toBe('replace');
    // Once the position shrank to 0.8 the rest of the ladder covers it exactly.
    expect(decideLadder(ladderInputs('0.8', '100', rest)).kind).toBe('keep');
  });

  it('waits while the engine has orders on their way, but not past half the grace under coverage', () => {
    const old = ladder('a1', '1', '100');
    expect(decideLadder(ladderInputs('1.5', '100', old, { busy: true, underCoveredSince: 9_000 })).kind).toBe(
      'wait',
    );
    expect(decideLadder(ladderInputs('1.5', '100', old, { busy: true, underCoveredSince: 7_000 })).kind).toBe(
      'replace',
    );
    // Over-covered (the position shrank) and busy for half the grace already: replaced anyway.
    expect(decideLadder(ladderInputs('0.5', '100', old, { busy: true })).kind).toBe('wait');
    expect(decideLadder(ladderInputs('0.5', '100', old, { busy: true, waitingSince: 7_400 })).kind).toBe(
      'replace',
    );
    // An unprotected position is protected at once, busy or not.
    expect(decideLadder(ladderInputs('1.5', '100', [], { busy: true })).kind).toBe('replace');
  });

  it('leaves the stops alone when no ladder can be planned (no entry price yet)', () => {
    const stops = ladder('a1', '1', '100');
    expect(decideLadder(ladderInputs('1.5', '0', stops)).kind).toBe('wait');
  });
});
