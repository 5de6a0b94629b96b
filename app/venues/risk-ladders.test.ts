// The stop-loss ladders and the risk rules on the trader's real engine over the simulator's exchange engine, in process, on a virtual clock.
import { describe, expect, it } from 'vitest';
import { parseLadderStopId } from '../../trader/stop-loss/ladder-ids.js';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RiskRig } from './testing/risk-rig.js';

const d = Decimal.parse;

function shown(stops: Awaited<ReturnType<RiskRig['stops']>>): string[] {
  return stops
    .map(
      (s) =>
        `${s.clientAlgoId.replace(/^sl_[0-9a-z]+_/, 'rung ')} ${s.side} ${s.quantity.toString()} @ ${s.triggerPrice?.toString()}`,
    )
    .sort();
}

describe('stop-loss ladders on the engine', () => {
  it('ladders a new position, replaces the ladder make-before-break when it grows, and cancels it on close', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('BTCUSDT', d('0.100'));
    await rig.advance(300);
    const entry = rig.truth().get('BTCUSDT')?.entry as Decimal;
    expect(entry.sign()).toBe(1);
    const first = await rig.stops();
    expect(first).toHaveLength(5);
    expect(first.map((s) => s.quantity.toString())).toEqual(['0.020', '0.020', '0.020', '0.020', '0.020']);
    for (const s of first) {
      const slot = parseLadderStopId(s.clientAlgoId);
      const percent = d('5').add(d('0.5').mul(Decimal.fromInt(slot?.rung ?? 0)));
      const raw = entry.mul(d('100').sub(percent)).div(d('100'), 8);
      // A sell stop is snapped up to the tick (0.10): within one tick above the exact level.
      expect(s.triggerPrice?.gte(raw)).toBe(true);
      expect(s.triggerPrice?.sub(raw).lt(d('0.1'))).toBe(true);
      expect(s.side).toBe('SELL');
      expect(s.reduceOnly).toBe(true);
    }
    const oldIds = new Set(first.map((s) => s.clientAlgoId));

    const before = rig.sent.length;
    rig.target('BTCUSDT', d('0.120'));
    await rig.advance(300);
    const second = await rig.stops();
    expect(second).toHaveLength(5);
    expect(second.some((s) => oldIds.has(s.clientAlgoId))).toBe(false);
    expect(second.reduce((sum, s) => sum.add(s.quantity), Decimal.ZERO).toString()).toBe('0.120');
    // Every new stop was placed, and read back from the exchange, before the first old one was cancelled.
    const calls = rig.sent.slice(before);
    const firstCancel = calls.findIndex((c) => c.kind === 'cancelStop');
    const placed = calls.filter((c, i) => c.kind === 'placeStop' && i < firstCancel);
    expect(placed).toHaveLength(5);
    const lastPlace = calls.findLastIndex((c) => c.kind === 'placeStop');
    expect(calls.slice(lastPlace, firstCancel).some((c) => c.kind === 'openStops')).toBe(true);
    expect(
      calls
        .filter((c) => c.kind === 'cancelStop')
        .map((c) => c.id)
        .sort(),
    ).toEqual([...oldIds].sort());

    rig.target('BTCUSDT', Decimal.ZERO);
    await rig.advance(300);
    expect(await rig.stops()).toEqual([]);
    expect(rig.trader.risk.ladders?.stats.failures).toBe(0);
  });

  it('ladders a short above its entry, snapped down to the tick', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('ETHUSDT', d('-1.003'));
    await rig.advance(300);
    const entry = rig.truth().get('ETHUSDT')?.entry as Decimal;
    const level = (percent: string) =>
      entry
        .mul(d('100').add(d(percent)))
        .div(d('100'), 10)
        .snap(d('0.01'), 'floor')
        .toFixed(2);
    expect(shown(await rig.stops())).toEqual([
      // 1.003 split evenly on the 0.001 step, the larger parts nearest the entry.
      `rung 0 BUY 0.201 @ ${level('5')}`,
      `rung 1 BUY 0.201 @ ${level('5.5')}`,
      `rung 2 BUY 0.201 @ ${level('6')}`,
      `rung 3 BUY 0.200 @ ${level('6.5')}`,
      `rung 4 BUY 0.200 @ ${level('7')}`,
    ]);
  });
});

describe('ladders across crashes', () => {
  it('adopts the ladder it finds on the exchange after a restart instead of placing another', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('BTCUSDT', d('0.100'));
    await rig.advance(500);
    const before = (await rig.stops()).map((s) => s.clientAlgoId).sort();
    await rig.crash();
    await rig.start();
    await rig.advance(20_000);
    expect((await rig.stops()).map((s) => s.clientAlgoId).sort()).toEqual(before);
    expect(rig.trader.risk.ladders?.stats.stopsPlaced).toBe(0);
  });

  it('finishes a replacement a crash interrupted: the newest complete ladder stays, the older one goes', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('BTCUSDT', d('0.100'));
    await rig.advance(500);
    const old = new Set((await rig.stops()).map((s) => s.clientAlgoId));
    // Grow, and die as the first old stop is about to be cancelled: both ladders are on the exchange.
    rig.faults.dieAt = { kind: 'cancelStop', after: 0 };
    rig.target('BTCUSDT', d('0.150'));
    await rig.settle(Promise.resolve());
    expect(await rig.stops()).toHaveLength(10);
    await rig.advance(2_000);
    expect(rig.restarts).toBe(1);
    const after = await rig.stops();
    expect(after).toHaveLength(5);
    expect(after.some((s) => old.has(s.clientAlgoId))).toBe(false);
    expect(after.reduce((sum, s) => sum.add(s.quantity), Decimal.ZERO).toString()).toBe('0.150');
  });

  it('replaces a partial ladder left by a crash mid-placement', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('ETHUSDT', d('2.000'));
    for (let i = 0; i < 200 && (await rig.stops()).length < 2; i++) await rig.advance(1);
    await rig.crash();
    await rig.start();
    await rig.advance(2_000);
    const stops = await rig.stops();
    expect(new Set(stops.map((s) => parseLadderStopId(s.clientAlgoId)?.generation)).size).toBe(1);
    expect(stops.reduce((sum, s) => sum.add(s.quantity), Decimal.ZERO).toString()).toBe('2.000');
  });
});

describe('risk rules on the engine', () => {
  it('closes at market what a stop would already have closed when the price is past it', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('BTCUSDT', d('0.100'));
    await rig.advance(500);
    const entry = rig.truth().get('BTCUSDT')?.entry as Decimal;
    // Hands off; the stops disappear (cancelled by hand) and the price falls 5.7 %.
    rig.trader.risk.state.setByOwner('HALTED', 'manual work');
    await rig.cancelAllStops();
    rig.movePrice('BTCUSDT', entry.mul(d('0.943')));
    rig.trader.risk.state.setByOwner('ACTIVE', 'back');
    await rig.advance(2_000);
    // Rungs at 5 % and 5.5 % were passed: 0.040 closed at market, the other three placed.
    expect(rig.truth().get('BTCUSDT')?.amount.toString()).toBe('0.06');
    const stops = await rig.stops();
    expect(stops.map((s) => parseLadderStopId(s.clientAlgoId)?.rung).sort()).toEqual([2, 3, 4]);
    expect(rig.trader.risk.ladders?.stats.passedRungs).toBe(2);
  });

  it('force-closes a position 7 % against its entry', async () => {
    const s = defaultRiskSettings();
    const rig = new RiskRig({ ...s, stopLoss: { ...s.stopLoss, enabled: false } });
    await rig.start();
    rig.target('ETHUSDT', d('-1.000'));
    await rig.advance(500);
    const entry = rig.truth().get('ETHUSDT')?.entry as Decimal;
    rig.movePrice('ETHUSDT', entry.mul(d('1.069')));
    await rig.advance(1_000);
    expect(rig.truth().get('ETHUSDT')?.amount.isZero()).toBe(false);
    rig.movePrice('ETHUSDT', entry.mul(d('1.0701')));
    await rig.advance(1_000);
    expect(rig.truth().get('ETHUSDT')?.amount.isZero()).toBe(true);
    expect(rig.trader.risk.events.stats().byKind['risk-action:force-close']).toBe(1);
  });

  it('HALTED sends nothing; REDUCING sends only what reduces', async () => {
    const rig = new RiskRig();
    await rig.start();
    rig.target('BTCUSDT', d('0.100'));
    await rig.advance(500);
    const sent = rig.sent.length;
    rig.trader.risk.state.setByOwner('HALTED', 'test');
    rig.target('BTCUSDT', d('0.200'));
    rig.target('ETHUSDT', d('1'));
    rig.target('BTCUSDT', d('0'));
    await rig.advance(3_000);
    expect(rig.sent.slice(sent).filter((c) => c.kind !== 'openStops')).toEqual([]);
    expect(rig.truth().get('BTCUSDT')?.amount.toString()).toBe('0.1');
    rig.trader.risk.state.setByOwner('REDUCING', 'test');
    rig.target('BTCUSDT', d('0.200'));
    rig.target('ETHUSDT', d('-1'));
    await rig.advance(1_000);
    expect(rig.truth().get('BTCUSDT')?.amount.toString()).toBe('0.1');
    expect(rig.truth().get('ETHUSDT')?.amount.isZero()).toBe(true);
    rig.target('BTCUSDT', d('0.040'));
    await rig.advance(1_000);
    expect(rig.truth().get('BTCUSDT')?.amount.toString()).toBe('0.04');
    expect(rig.trader.risk.gate.refusals['trading-state']).toBe(5);
  });
});

describe('order timeouts by client id prefix', () => {
  it('cancels a resting m_ order after 2.5 s and sends 30 % of what was left as a taker; MC after 60 s, no taker', async () => {
    const s = defaultRiskSettings();
    const rig = new RiskRig({ ...s, stopLoss: { ...s.stopLoss, enabled: false } });
    await rig.start();
    const below = rig.lastPrice('ETHUSDT').mul(d('0.9')).snap(d('0.01'), 'floor');
    // Orders the trader does not work itself (placed by hand, or left by a crashed run).
    await rig.placeByHand({
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: below,
      quantity: d('1.000'),
      reduceOnly: false,
      clientOrderId: 'm_hand_1',
    });
    await rig.placeByHand({
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: below,
      quantity: d('0.500'),
      reduceOnly: false,
      clientOrderId: 'MC_hand_1',
    });
    await rig.advance(2_000);
    expect((await rig.openOrders()).map((o) => o.clientOrderId).sort()).toEqual(['MC_hand_1', 'm_hand_1']);
    await rig.advance(1_000);
    expect((await rig.openOrders()).map((o) => o.clientOrderId)).toEqual(['MC_hand_1']);
    // 30 % of the unfilled 1.000 went as a taker order through the engine.
    expect(rig.truth().get('ETHUSDT')?.amount.toString()).toBe('0.3');
    await rig.advance(58_000);
    expect(await rig.openOrders()).toEqual([]);
    expect(rig.truth().get('ETHUSDT')?.amount.toString()).toBe('0.3');
    expect(rig.trader.risk.timeouts?.stats).toMatchObject({ cancelled: 2, resent: 1 });
  });

  it('finds resting orders from before a restart on the exchange and leaves orders the executor works alone', async () => {
    const s = defaultRiskSettings();
    const rig = new RiskRig({ ...s, stopLoss: { ...s.stopLoss, enabled: false } });
    const below = rig.lastPrice('BTCUSDT').mul(d('0.9')).snap(d('0.1'), 'floor');
    await rig.placeByHand({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: below,
      quantity: d('0.010'),
      reduceOnly: false,
      clientOrderId: 'm_before_restart',
    });
    await rig.advance(5_000);
    await rig.start();
    await rig.advance(500);
    expect(await rig.openOrders()).toEqual([]);
    expect(rig.trader.risk.timeouts?.stats.cancelled).toBe(1);
    // A post-only order the executor works: it times out on its own terms, not the sweeper's.
    rig.trader.engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'maker', {
      kind: 'post-only',
      timeoutMs: 10_000,
    });
    await rig.advance(5_000);
    const resting = await rig.openOrders();
    expect(resting.map((o) => o.clientOrderId.slice(0, 2))).toEqual(['m_']);
    expect(rig.trader.risk.timeouts?.stats.cancelled).toBe(1);
  });
});
