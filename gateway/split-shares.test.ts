import { describe, expect, it } from 'vitest';
import type { SymbolSpec } from '../sim/contracts.js';
import { universe } from '../sim/synthetic-universe.js';
import { Decimal } from '../ts/exact/decimal.js';
import { SymbolFilterSet } from '../ts/native/filters.js';
import { splitShare } from './split-shares.js';

function filtersOf(spec: SymbolSpec): SymbolFilterSet {
  return new SymbolFilterSet({
    tickSize: spec.tickSize.toString(),
    minPrice: spec.minPrice.toString(),
    maxPrice: spec.maxPrice.toString(),
    stepSize: spec.stepSize.toString(),
    minQty: spec.minQty.toString(),
    maxQty: spec.maxQty.toString(),
    marketStepSize: spec.marketStepSize.toString(),
    marketMinQty: spec.marketMinQty.toString(),
    marketMaxQty: spec.marketMaxQty.toString(),
    minNotional: spec.minNotional.toString(),
  });
}

/** A small seeded generator (the seed is in the failure message). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4_294_967_296;
  };
}

describe('split shares', () => {
  it('splits 0.010 BTC among three as 0.003, 0.003, 0.004 and 0.008 as 0.002, 0.003, 0.003', () => {
    const f = new SymbolFilterSet({ stepSize: '0.001', minQty: '0.001', maxQty: '1000' });
    const shares = (q: string) =>
      [0, 1, 2].map((i) => splitShare(f, Decimal.parse(q), i, 3, false).toString());
    expect(shares('0.010')).toEqual(['0.003', '0.003', '0.004']);
    expect(shares('0.008')).toEqual(['0.002', '0.003', '0.003']);
    // Fewer steps than members: some shares are zero (nothing placed), never more than the order.
    expect(shares('0.002')).toEqual(['0.000', '0.001', '0.001']);
    expect(() => splitShare(f, Decimal.parse('1'), 3, 3, false)).toThrow(/index/);
  });

  it('never adds up past the order, on the step, at most a step apart: 650 symbols, 1–5 members', () => {
    const seed = Number(process.env.SPLIT_SEED ?? 20_261_202);
    const next = random(seed);
    const specs = universe(650);
    expect(specs).toHaveLength(650);
    let checked = 0;
    for (const spec of specs) {
      const f = filtersOf(spec);
      for (let k = 0; k < 3; k++) {
        const market = next() < 0.5;
        const step = market ? spec.marketStepSize : spec.stepSize;
        const cap = market ? spec.marketMaxQty : spec.maxQty;
        // Up to 400 steps plus an off-grid remainder, within the lot's maximum.
        const raw = step
          .mul(Decimal.fromInt(Math.floor(next() * 400)))
          .add(step.div(Decimal.fromInt(3), 18, 'down'));
        const quantity = raw.gt(cap) ? cap : raw;
        const whole = f.snapQuantity(quantity, market);
        for (let members = 1; members <= 5; members++) {
          const shares = Array.from({ length: members }, (_, i) =>
            splitShare(f, quantity, i, members, market),
          );
          const sum = shares.reduce((a, b) => a.add(b), Decimal.ZERO);
          const where = `seed ${seed} ${spec.symbol} ${quantity} / ${members} (${market ? 'market' : 'limit'})`;
          expect(sum.eq(whole), where).toBe(true);
          expect(sum.lte(quantity), where).toBe(true);
          for (const s of shares) {
            expect(s.sign() >= 0, where).toBe(true);
            expect(f.snapQuantity(s, market).eq(s) || s.isZero(), where).toBe(true);
          }
          const most = shares.reduce((a, b) => (a.gt(b) ? a : b));
          const least = shares.reduce((a, b) => (a.lt(b) ? a : b));
          expect(most.sub(least).lte(step), where).toBe(true);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(650 * 3 * 5);
  });
});
