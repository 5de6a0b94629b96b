import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/package-root.js';

const dist = join(packageRoot, 'dist');
const built = existsSync(join(dist, 'trader', 'strategies', 'factor', 'factor-worker.js'));

// The pool's workers load compiled JavaScript, so this runs against the build (`npm test` builds first).
describe.skipIf(!built)('the factor strategy (piscina workers, calculators from the folder)', () => {
  it('goes long the riser and short the faller of three symbols, Σ|w| = 1, sized with the equity', async () => {
    const { runBacktest } = (await import(
      join(dist, 'app/backtest/backtest-runner.js')
    )) as typeof import('./backtest-runner.js');
    const { factorStrategy, FactorStrategy } = (await import(
      join(dist, 'trader/strategies/factor/factor-strategy.js')
    )) as typeof import('../../trader/strategies/factor/factor-strategy.js');
    const { writeAggTrades } = (await import(
      join(dist, 'app/backtest/testing/trade-files.js')
    )) as typeof import('./testing/trade-files.js');
    const dir = mkdtempSync(join(tmpdir(), 'tributary-factor-'));
    const start = Date.UTC(2026, 4, 8);
    const path = (symbol: string, from: number, to: number) => {
      const trades = [];
      for (let s = 0; s < 7200; s += 30) {
        const price = from + ((to - from) * s) / 7200;
        trades.push({
          time: start + s * 1000 + 500,
          price: price.toFixed(2),
          qty: '0.100',
          takerSold: (s / 30) % 3 === 0,
        });
      }
      return writeAggTrades(symbol, '2026-05-08', trades, dir);
    };
    const files = [path('BTCUSDT', 100000, 110000), path('ETHUSDT', 3000, 2700), path('BNBUSDT', 600, 601)];
    const strategy = new FactorStrategy(factorStrategy.config.parse({ interval: '5m', maxThreads: 2 }));
    const out = await runBacktest({ strategyName: 'factor', strategy, files, balance: '10000' });
    const weights = [...strategy.lastWeights.entries()];
    expect(weights.reduce((a, [, w]) => a + Math.abs(w), 0)).toBeCloseTo(1, 9);
    expect(strategy.lastWeights.get('BTCUSDT') ?? 0).toBeGreaterThan(0);
    expect(strategy.lastWeights.get('ETHUSDT') ?? 0).toBeLessThan(0);
    const net = new Map<string, number>();
    for (const f of out.recorder.fills)
      net.set(f.symbol, (net.get(f.symbol) ?? 0) + (f.side === 'BUY' ? 1 : -1) * f.quantity.toNumber());
    expect(net.get('BTCUSDT') ?? 0).toBeGreaterThan(0);
    expect(net.get('ETHUSDT') ?? 0).toBeLessThan(0);
  }, 60_000);
});
