import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { SymbolFilterSet } from '../../ts/native/filters.js';
import { ladderStopId, parseLadderStopId } from './ladder-ids.js';
import { CappedLadder, type LadderRung, planLadder, stopMaxQty } from './ladder-plan.js';

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
    // 0.123 / 5 = 0.0246: split evenly on the step, the larger parts on the nearest rungs.
    expect(shown('0.123', '60123.4')).toEqual([
      '0 SELL 0.025 @ 57117.30', // 57117.23
      '1 SELL 0.025 @ 56816.70', // 56816.613
      '2 SELL 0.025 @ 56516.00', // 56515.996
      '3 SELL 0.024 @ 56215.40', // 56215.379
      '4 SELL 0.024 @ 55914.80', // 55914.762
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

  it('keeps every rung within one lot step of |pos|/5, the larger ones nearest the entry (a 0.009 BTC ≈ 540 USDT position)', () => {
    // |pos|/5 = 0.0018. Before: 0.001 on each of the first four rungs and the remainder 0.005 on the
    // 7 % rung, 55 % of the position stopped at the deepest price.
    expect(shown('0.009', '60000')).toEqual([
      '0 SELL 0.002 @ 57000.00',
      '1 SELL 0.002 @ 56700.00',
      '2 SELL 0.002 @ 56400.00',
      '3 SELL 0.002 @ 56100.00',
      '4 SELL 0.001 @ 55800.00',
    ]);
    expect(shown('0.007', '60000')).toEqual([
      '0 SELL 0.002 @ 57000.00',
      '1 SELL 0.002 @ 56700.00',
      '2 SELL 0.001 @ 56400.00',
      '3 SELL 0.001 @ 56100.00',
      '4 SELL 0.001 @ 55800.00',
    ]);
  });

  it('splits any position evenly: parts one step apart at most, never larger on a deeper rung, rungs from the first', () => {
    for (const amount of [
      '0.001',
      '0.002',
      '0.004',
      '0.006',
      '0.009',
      '0.011',
      '0.999',
      '1.001',
      '-7.777',
      '119.999',
    ]) {
      const rungs = planLadder(Decimal.parse(amount), Decimal.parse('60000'), BTC, SEED);
      expect(
        rungs.map((r) => r.rung),
        amount,
      ).toEqual(rungs.map((_, i) => i));
      for (const [i, r] of rungs.entries()) {
        const next = rungs[i + 1];
        if (next === undefined) continue;
        expect(r.quantity.gte(next.quantity), `${amount}: rung ${i}`).toBe(true);
        expect(r.quantity.sub(next.quantity).lte(Decimal.parse('0.001')), `${amount}: rung ${i}`).toBe(true);
      }
      const first = rungs[0]?.quantity ?? Decimal.ZERO;
      const last = rungs[rungs.length - 1]?.quantity ?? Decimal.ZERO;
      expect(first.sub(last).lte(Decimal.parse('0.001')), amount).toBe(true);
    }
  });

  it('gives a position smaller than five steps one stop per step on the nearest rungs, the first 5 % beyond the entry', () => {
    // Before: the whole position on rung 4, 7 % under the entry (55800), the nearer rungs empty.
    expect(shown('0.003', '60000')).toEqual([
      '0 SELL 0.001 @ 57000.00',
      '1 SELL 0.001 @ 56700.00',
      '2 SELL 0.001 @ 56400.00',
    ]);
    expect(shown('-0.001', '60000')).toEqual(['0 BUY 0.001 @ 63000.00']);
    expect(shown('0.004', '60000')).toEqual([
      '0 SELL 0.001 @ 57000.00',
      '1 SELL 0.001 @ 56700.00',
      '2 SELL 0.001 @ 56400.00',
      '3 SELL 0.001 @ 56100.00',
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

  it('plans fewer stops on the nearest rungs rather than stops under the minimum quantity the exchange refuses', () => {
    // minQty 0.01 on a 0.001 step: 0.03 / 5 = 0.006 and 0.03 / 4 = 0.0075 per rung are under the
    // minimum, 0.03 / 3 = 0.01 is not. Before: one stop of 0.030 at 7 %.
    const lot = new SymbolFilterSet({ tickSize: '0.10', stepSize: '0.001', minQty: '0.01' });
    const plan = (amount: string) =>
      planLadder(Decimal.parse(amount), Decimal.parse('60000'), lot, SEED).map(
        (r) => `${r.rung} ${r.quantity.toString()} @ ${r.triggerPrice.toString()}`,
      );
    expect(plan('0.03')).toEqual(['0 0.010 @ 57000.00', '1 0.010 @ 56700.00', '2 0.010 @ 56400.00']);
    // 0.041 / 4 = 0.01025 → 0.011, 0.010, 0.010, 0.010: four stops, none under the minimum.
    expect(plan('0.041')).toEqual([
      '0 0.011 @ 57000.00',
      '1 0.010 @ 56700.00',
      '2 0.010 @ 56400.00',
      '3 0.010 @ 56100.00',
    ]);
    // Not even two stops of the minimum: the whole position on the first rung.
    expect(plan('0.019')).toEqual(['0 0.019 @ 57000.00']);
  });

  it('plans nothing for a flat position or an unknown entry', () => {
    expect(shown('0', '60000')).toEqual([]);
    expect(shown('0.1', '0')).toEqual([]);
  });

  describe('with the lot maxQty', () => {
    // BTC's MARKET_LOT_SIZE maxQty is 120 (LOT_SIZE's 1000): stops are market orders.
    const LOT = { maxQty: stopMaxQty({ marketMaxQty: '120', maxQty: '1000' }), maxOrders: 40 };
    const split = (amount: string, lot = LOT): LadderRung[] => {
      const plan = planLadder(Decimal.parse(amount), Decimal.parse('60000'), BTC, SEED, lot);
      if (plan instanceof CappedLadder) throw new Error(plan.message);
      return plan;
    };

    it('sends a rung over maxQty as several orders at its trigger, each within maxQty and on the step, summing to the rung', () => {
      // 601.237 / 5 = 120.2474: 120.248 on the first two rungs, 120.247 on the rest; over 120, two orders each.
      const plan = split('601.237');
      expect(
        plan.map((r) => `${r.rung}.${r.part} ${r.quantity.toString()} @ ${r.triggerPrice.toString()}`),
      ).toEqual([
        '0.0 60.124 @ 57000.00',
        '0.1 60.124 @ 57000.00',
        '1.0 60.124 @ 56700.00',
        '1.1 60.124 @ 56700.00',
        '2.0 60.124 @ 56400.00',
        '2.1 60.123 @ 56400.00',
        '3.0 60.124 @ 56100.00',
        '3.1 60.123 @ 56100.00',
        '4.0 60.124 @ 55800.00',
        '4.1 60.123 @ 55800.00',
      ]);
      // As the exchange checks a STOP_MARKET: MARKET_LOT_SIZE passes for every order.
      for (const r of plan) expect(BTC.checkOrder(r.triggerPrice, r.quantity, true)).toBeNull();
    });

    it('covers the position exactly with orders the market lot accepts, whatever the size', () => {
      for (const amount of ['120.001', '600.001', '-777.777', '1234.5', '4000.001', '4800']) {
        const plan = split(amount);
        const total = plan.reduce((sum, r) => sum.add(r.quantity), Decimal.ZERO);
        expect(total.eq(Decimal.parse(amount).abs()), amount).toBe(true);
        for (const r of plan) {
          expect(r.quantity.lte(Decimal.parse('120')), `${amount}: ${r.quantity.toString()}`).toBe(true);
          expect(
            BTC.checkOrder(r.triggerPrice, r.quantity, true),
            `${amount}: ${r.quantity.toString()}`,
          ).toBeNull();
        }
        // Every rung's orders share its trigger; ids stay unique and say rung and part.
        const ids = plan.map((r) => ladderStopId('g1', r.rung, r.part));
        expect(new Set(ids).size).toBe(plan.length);
        for (const [i, id] of ids.entries()) {
          expect(parseLadderStopId(id)).toEqual({
            generation: 'g1',
            rung: plan[i]?.rung,
            part: plan[i]?.part,
          });
        }
      }
    });

    it('leaves rungs within maxQty as single orders with the ids they always had', () => {
      const plan = split('0.123');
      expect(plan.map((r) => r.part)).toEqual([null, null, null, null, null]);
      expect(ladderStopId('g1', 3, null)).toBe('sl_g1_3');
      expect(parseLadderStopId('sl_g1_3')).toEqual({ generation: 'g1', rung: 3, part: null });
    });

    it('caps a position needing more orders than a ladder may have at that many stops of maxQty, spread over the rungs', () => {
      // 1,300 in 5 rungs of 260: 3 orders of at most 120 each, 15 orders against a limit of 10.
      const plan = planLadder(Decimal.parse('1300'), Decimal.parse('60000'), BTC, SEED, {
        ...LOT,
        maxOrders: 10,
      });
      if (!(plan instanceof CappedLadder)) throw new Error('expected a capped ladder');
      expect(plan).toMatchObject({ ordersNeeded: 15, maxOrders: 10 });
      expect(plan.rungs).toHaveLength(10);
      // Two stops of exactly maxQty on each rung, at that rung's trigger.
      expect(plan.rungs.map((r) => [r.rung, r.part, r.quantity.toString()])).toEqual(
        [0, 1, 2, 3, 4].flatMap((rung) => [
          [rung, 0, '120.000'],
          [rung, 1, '120.000'],
        ]),
      );
      const full = planLadder(Decimal.parse('1300'), Decimal.parse('60000'), BTC, SEED);
      for (const r of plan.rungs)
        expect(r.triggerPrice.toString()).toBe(full.find((f) => f.rung === r.rung)?.triggerPrice.toString());
      expect(plan.covered.toString()).toBe('1200.000');
      expect(plan.message).toBe(
        'a ladder for 1300 needs 15 stop orders of at most 120.000 each, more than the 10 allowed: 10 stops cover 1200.000 of it',
      );
      // Fewer allowed than rungs: the nearest rungs get one each; a rung whose full size fits keeps it.
      const few = planLadder(Decimal.parse('1300'), Decimal.parse('60000'), BTC, SEED, {
        ...LOT,
        maxOrders: 3,
      });
      if (!(few instanceof CappedLadder)) throw new Error('expected a capped ladder');
      expect(few.rungs.map((r) => [r.rung, r.part, r.quantity.toString()])).toEqual([
        [0, null, '120.000'],
        [1, null, '120.000'],
        [2, null, '120.000'],
      ]);
      const uneven = planLadder(Decimal.parse('1000'), Decimal.parse('60000'), BTC, SEED, {
        ...LOT,
        maxOrders: 9,
      });
      if (!(uneven instanceof CappedLadder)) throw new Error('expected a capped ladder');
      // 5 rungs of 200 need 2 stops each (10): the first four get both, the last one.
      expect(uneven.rungs.map((r) => [r.rung, r.quantity.toString()])).toEqual([
        [0, '100.000'],
        [0, '100.000'],
        [1, '100.000'],
        [1, '100.000'],
        [2, '100.000'],
        [2, '100.000'],
        [3, '100.000'],
        [3, '100.000'],
        [4, '120.000'],
      ]);
      expect(uneven.covered.toString()).toBe('920.000');
      // An absurd position is capped without building its orders (this would be 10^12 of them).
      const absurd = planLadder(Decimal.parse('120000000000000'), Decimal.parse('60000'), BTC, SEED, LOT);
      if (!(absurd instanceof CappedLadder)) throw new Error('expected a capped ladder');
      expect(absurd.rungs).toHaveLength(40);
      expect(absurd.covered.toString()).toBe('4800.000');
    });

    it('without a maxQty, the position is split evenly over the nearest maxOrders rungs: covered in full', () => {
      const plan = planLadder(Decimal.parse('1.000'), Decimal.parse('60000'), BTC, SEED, {
        maxQty: undefined,
        maxOrders: 3,
      });
      if (plan instanceof CappedLadder) throw new Error('expected a full ladder');
      expect(plan.map((r) => [r.rung, r.quantity.toString()])).toEqual([
        [0, '0.334'],
        [1, '0.333'],
        [2, '0.333'],
      ]);
    });

    it("takes the market lot's maxQty for stops, the lot's when the symbol lists no market one", () => {
      expect(stopMaxQty({ marketMaxQty: '120', maxQty: '1000' })?.toString()).toBe('120');
      expect(stopMaxQty({ maxQty: '1000' })?.toString()).toBe('1000');
      expect(stopMaxQty({ marketMaxQty: '0', maxQty: '1000' })?.toString()).toBe('1000');
      expect(stopMaxQty({})).toBeUndefined();
      expect(stopMaxQty(undefined)).toBeUndefined();
    });
  });
});
