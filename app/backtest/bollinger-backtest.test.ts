import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bollingerStrategy } from '../../trader/strategies/bollinger/bollinger-strategy.js';
import { packageRoot } from '../../ts/package-root.js';
import { runBacktest } from './backtest-runner.js';
import { type HandTrade, writeAggTrades } from './testing/trade-files.js';

const DAY = join(packageRoot, '..', 'shared', 'data', 'BTCUSD_PERP-aggTrades-2026-05-08.csv');
const START = Date.UTC(2026, 4, 8, 0, 0, 0);

describe('the Bollinger strategy in a backtest', () => {
  it('sells short when the price falls back under UP after breaking it, and reverses on DN', async () => {
    const trades: HandTrade[] = [];
    // 19 one-minute bars alternating 100000 / 100100 (bands about ±100 around 100050), then the live bar.
    for (let m = 0; m < 19; m++)
      trades.push({ time: START + m * 60_000 + 30_000, price: m % 2 === 0 ? '100000.0' : '100100.0' });
    const t = START + 19 * 60_000;
    trades.push({ time: t + 5_000, price: '100400.0' }); // above UP: broke up
    trades.push({ time: t + 10_000, price: '100060.0', takerSold: true }); // back inside: sell short
    trades.push({ time: t + 15_000, price: '99500.0', takerSold: true }); // below DN: short broke DN
    trades.push({ time: t + 20_000, price: '100040.0' }); // rebound: take profit, buy long
    trades.push({ time: t + 70_000, price: '100040.0' });
    const file = writeAggTrades('BTCUSDT', '2026-05-08', trades);
    const strategy = bollingerStrategy.create(
      bollingerStrategy.config.parse({ interval: '1m', notional: '1000' }),
    );
    const out = await runBacktest({ strategyName: 'boll', strategy, files: [file] });
    const fills = out.recorder.fills.map((f) => `${f.side} ${f.quantity.toString()} @ ${f.price.toString()}`);
    expect(fills).toEqual([
      'SELL 0.009 @ 100060.00', // taker sold at 100060: the touch's bid
      'BUY 0.009 @ 100040.00', // close the short (reduce-only)
      'BUY 0.009 @ 100040.00', // open the long
    ]);
    expect(out.recorder.orders.map((o) => o.reduceOnly)).toEqual([false, true, false]);
  });

  it('runs the shared real day on 15m bands, deterministically', async () => {
    if (!existsSync(DAY)) {
      console.warn(`SKIP: ${DAY} is absent`);
      return;
    }
    const run = () =>
      runBacktest({
        strategyName: 'boll',
        strategy: bollingerStrategy.create(
          bollingerStrategy.config.parse({ symbols: ['BTCUSD_PERP'], notional: '1000' }),
        ),
        files: [DAY],
      });
    const a = await run();
    const b = await run();
    expect(a.trades).toBeGreaterThan(0);
    expect(JSON.stringify(a.recorder.fills)).toBe(JSON.stringify(b.recorder.fills));
    expect(a.finalEquity).toBe(b.finalEquity);
  });
});
