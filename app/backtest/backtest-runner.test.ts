import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoStrategy } from '../../trader/strategies/demo/demo-strategy.js';
import { packageRoot } from '../../ts/package-root.js';
import { runBacktest } from './backtest-runner.js';
import { minuteTrades, writeAggTrades } from './testing/trade-files.js';

const DAY = join(packageRoot, '..', 'shared', 'data', 'BTCUSD_PERP-aggTrades-2026-05-08.csv');
const START = Date.UTC(2026, 4, 8, 0, 0, 0);

describe('runBacktest with the demo strategy', () => {
  it('opens on a +2 % minute and closes on a −1 % minute, at the simulator book’s touch', async () => {
    // minute 0 flat, 1 up 2 %, 2 flat, 3 down 1 %, 4 flat
    const file = writeAggTrades(
      'BTCUSDT',
      '2026-05-08',
      minuteTrades(START, [100000, 100000, 102000, 102000, 101000], [100000, 102000, 102000, 101000, 101000]),
    );
    const out = await runBacktest({
      strategyName: 'demo',
      strategy: demoStrategy.create(demoStrategy.config.parse({})),
      files: [file],
    });
    const fills = out.recorder.fills.map((f) => ({
      side: f.side,
      price: f.price.toString(),
      qty: f.quantity.toString(),
    }));
    // 100 USDT at 102000 → 0.00098 → snapped to the 0.001 step → 0.000: below one step, skipped.
    expect(fills).toEqual([]);
    expect(out.skippedLegs).toBe(1);
  });

  it('trades the notional it is given and closes reduce-only', async () => {
    const file = writeAggTrades(
      'BTCUSDT',
      '2026-05-08',
      minuteTrades(START, [100000, 100000, 102000, 102000, 101000], [100000, 102000, 102000, 101000, 101000]),
    );
    const strategy = demoStrategy.create(demoStrategy.config.parse({ notional: '1000' }));
    const out = await runBacktest({ strategyName: 'demo', strategy, files: [file] });
    const fills = out.recorder.fills.map((f) => ({
      side: f.side,
      price: f.price.toString(),
      qty: f.quantity.toString(),
      time: f.time,
    }));
    // Minute 1 closes at 102000 (last trade a taker sell: bid 102000, ask 102000.1); buy 1000/102000 → 0.009.
    expect(fills[0]).toMatchObject({
      side: 'BUY',
      price: '102000.10',
      qty: '0.009',
      time: START + 2 * 60_000,
    });
    // Minute 3 closes at 101000 after a taker sell: the sell hits the bid, 101000.0.
    expect(fills[1]).toMatchObject({
      side: 'SELL',
      price: '101000.00',
      qty: '0.009',
      time: START + 4 * 60_000,
    });
    expect(fills).toHaveLength(2);
    expect(out.recorder.orders.map((o) => o.reduceOnly)).toEqual([false, true]);
    expect(out.trades).toBe(2);
    expect(Number(out.fees)).toBeGreaterThan(0);
  });

  it('replays the shared real day deterministically', async () => {
    if (!existsSync(DAY)) {
      console.warn(`SKIP: ${DAY} is absent`);
      return;
    }
    const run = () =>
      runBacktest({
        strategyName: 'demo',
        strategy: demoStrategy.create(
          demoStrategy.config.parse({ openAbove: '0.002', closeBelow: '-0.001', notional: '1000' }),
        ),
        files: [DAY],
      });
    const a = await run();
    const b = await run();
    expect(a.equity).toHaveLength(1440);
    expect(a.trades).toBeGreaterThan(0);
    expect(a.assumedSpecs).toEqual(['BTCUSD_PERP']);
    expect(JSON.stringify(a.recorder.fills)).toBe(JSON.stringify(b.recorder.fills));
    expect(a.finalEquity).toBe(b.finalEquity);
  });
});
