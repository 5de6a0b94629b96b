import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { SymbolFilterSet } from '../../ts/native/filters.js';
import { planLadder } from './ladder-plan.js';

const BTC = new SymbolFilterSet({
  tickSize: '0.10',
  minPrice: '261.10',
  maxPrice: '809484',
  stepSize: '0.001',
  minQty: '0.001',
  maxQty: '1000',
  marketStepSize: '0.001',
  marketMinQty: '0.001',
  marketMaxQty: '120',
  minNotional: '100',
});
const SEED = { rungs: 5, firstPercent: Decimal.parse('5'), stepPercent: Decimal.parse('0.5') };

function shown(amount: string, entry: string) {
  return planLadder(Decimal.parse(amount), Decimal.parse(entry), BTC, SEED).map(
    (r) => `${r.rung} ${r.side} ${r.quantity.toString()} @ ${r.triggerPrice.toString()}`,
  );
}

describe('planLadder', () => {
  it("puts a long position's five sell stops 5, 5.5, 6, 6.5 and 7 % under the entry, snapped up to the tick", () => {
    // The tick is written 0.10, so prices carry two decimals as the exchange lists them.
    // 0.123 / 5 = 0.0246 → 0.024 each, the remainder 0.027 on the last rung.
    expect(shown('0.123', '60123.4')).toEqual([
      '0 SELL 0.024 @ 57117.30', // 57117.23
      '1 SELL 0.024 @ 56816.70', // 56816.613
      '2 SELL 0.024 @ 56516.00', // 56515.996
      '3 SELL 0.024 @ 56215.40', // 56215.379
      '4 SELL 0.027 @ 55914.80', // 55914.762
    ]);
  });

  it("puts a short position's buy stops above the entry, snapped down to the tick", () => {
    expect(shown('-0.005', '60123.4')).toEqual([
      '0 BUY 0.001 @ 63129.50', // 63129.57
      '1 BUY 0.001 @ 63430.10', // 63430.187
      '2 BUY 0.001 @ 63730.80', // 63730.804
      '3 BUY 0.001 @ 64031.40', // 64031.421
      '4 BUY 0.001 @ 64332.00', // 64332.038
    ]);
  });

  it('covers the position exactly, whatever the size', () => {
    for (const amount of ['0.001', '0.004', '0.007', '0.999', '1.001', '-7.777', '119.999']) {
      const rungs = planLadder(Decimal.parse(amount), Decimal.parse('60000'), BTC, SEED);
      const total = rungs.reduce((sum, r) => sum.add(r.quantity), Decimal.ZERO);
      expect(total.eq(Decimal.parse(amount).abs()), amount).toBe(true);
      for (const r of rungs) expect(r.quantity.isMultipleOf(Decimal.parse('0.001'))).toBe(true);
    }
  });

  it('gives a position smaller than five steps fewer, larger stops (the remainder on the last rung)', () => {
    expect(shown('0.003', '60000')).toEqual(['4 SELL 0.003 @ 55800.00']);
    expect(shown('0.007', '60000')).toEqual([
      '0 SELL 0.001 @ 57000.00',
      '1 SELL 0.001 @ 56700.00',
      '2 SELL 0.001 @ 56400.00',
      '3 SELL 0.001 @ 56100.00',
      '4 SELL 0.003 @ 55800.00',
    ]);
  });

  it('never puts a trigger at or past the entry when the tick is coarser than the distance', () => {
    // A tick of 0.1 on an entry of 1.00: 5 % under it is 0.95, which snaps up (toward the entry) to
    // 1.0 — a "stop-loss" at the entry, refused as passed (-2021) and closed at market the moment the
    // mark dips under it. The rung must stay beyond the entry: the next tick out.
    const coarse = new SymbolFilterSet({ tickSize: '0.1', stepSize: '1', minQty: '1' });
    const plan = (amount: string) =>
      planLadder(Decimal.parse(amount), Decimal.parse('1.00'), coarse, SEED).map(
        (r) => `${r.side} ${r.quantity.toString()} @ ${r.triggerPrice.toString()}`,
      );
    for (const line of plan('100')) expect(line).toMatch(/^SELL \d+ @ 0\.9$/);
    for (const line of plan('-100')) expect(line).toMatch(/^BUY \d+ @ 1\.1$/);
  });

  it('folds rungs under the minimum quantity into the last one rather than planning stops the exchange refuses', () => {
    // minQty 0.01 on a 0.001 step: 0.03 / 5 = 0.006 per rung is under the minimum.
    const lot = new SymbolFilterSet({ tickSize: '0.10', stepSize: '0.001', minQty: '0.01' });
    const rungs = planLadder(Decimal.parse('0.03'), Decimal.parse('60000'), lot, SEED);
    expect(rungs.map((r) => `${r.rung} ${r.quantity.toString()} @ ${r.triggerPrice.toString()}`)).toEqual([
      '4 0.030 @ 55800.00',
    ]);
  });

  it('plans nothing for a flat position or an unknown entry', () => {
    expect(shown('0', '60000')).toEqual([]);
    expect(shown('0.1', '0')).toEqual([]);
  });
});
