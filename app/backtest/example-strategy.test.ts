// The example strategy users copy: validated settings, warm-up, crossover entries and exits bar by bar, and its cooldown kept across a restart.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BarEvent } from '../../trader/engine/events.js';
import type { BarSeries } from '../../trader/engine/market-data.js';
import { FileStrategyStateStore } from '../../trader/engine/strategy-state-file.js';
import { type ExampleStrategy, exampleStrategy } from '../../trader/strategies/example/example-strategy.js';
import { createStrategy, StrategyConfigError } from '../../trader/strategies/registry.js';
import type { StrategyContext } from '../../trader/strategies/strategy-api.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { runBacktest } from './backtest-runner.js';
import { minuteTrades, writeAggTrades } from './testing/trade-files.js';

const START = Date.UTC(2026, 4, 8, 0, 0, 0);
const MINUTE = 60_000;
// Four flat minutes (the slow average's warm-up), a rise, a fall, a rise again.
const CLOSES = [
  100_000, 100_000, 100_000, 100_000, 101_000, 102_000, 99_000, 98_000, 103_000, 104_000, 105_000, 105_000,
];
const OPENS = [100_000, ...CLOSES.slice(0, -1)];
const CONFIG = { symbols: ['BTCUSDT'], fast: 2, slow: 4, notional: '1000', cooldownBars: 3 };

function strategy(): ExampleStrategy {
  return exampleStrategy.create(exampleStrategy.config.parse(CONFIG)) as ExampleStrategy;
}

describe('the example strategy', () => {
  it('validates its settings like the configuration does', () => {
    expect(() => createStrategy('example', { fast: 20, slow: 10 })).toThrow(StrategyConfigError);
    try {
      createStrategy('example', { fast: 20, slow: 10, colour: 'red' });
    } catch (error) {
      expect((error as StrategyConfigError).issues).toEqual(
        expect.arrayContaining([{ path: ['colour'], message: 'is not a known setting' }]),
      );
    }
    expect(createStrategy('example', {}).requirements).toEqual({
      symbols: ['BTCUSDT'],
      intervals: ['1m'],
      warmupBars: 20,
      ticks: false,
    });
  });

  it('enters when the fast average crosses above the slow one, exits below it, and waits out its cooldown', async () => {
    const file = writeAggTrades('BTCUSDT', '2026-05-08', minuteTrades(START, OPENS, CLOSES));
    const dir = mkdtempSync(join(tmpdir(), 'tributary-example-'));
    const store = new FileStrategyStateStore(dir, silentLogger('state'));
    const s = strategy();
    const out = await runBacktest({ strategyName: 'example', strategy: s, files: [file], stateStore: store });
    const fills = out.recorder.fills.map((f) => ({ side: f.side, minute: (f.time - START) / MINUTE }));
    // Minute 4 closes with fast 100500 > slow 100250: buy at its close (engine time = minute 5).
    // Minute 6 leaves fast = slow = 100500; minute 7 (fast 98500 < slow 100000) closes it, and the
    // 3-bar cooldown runs to minute 10's close: the rise of minute 9 is not traded, minute 10 is.
    expect(fills).toEqual([
      { side: 'BUY', minute: 5 },
      { side: 'SELL', minute: 8 },
      { side: 'BUY', minute: 11 },
    ]);
    const memory = s.memory('BTCUSDT');
    expect(memory?.entries).toBe(2);
    // The state file holds what a restart needs.
    const saved = JSON.parse(readFileSync(join(dir, 'strategy-example.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(saved).toEqual({ BTCUSDT: { cooldownUntil: memory?.cooldownUntil, entries: 2 } });
  });

  it('keeps its cooldown across a restart: a restored instance does not re-enter where a fresh one would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-example-state-'));
    const store = new FileStrategyStateStore(dir, silentLogger('state'));
    const closeTime = START + 10 * MINUTE - 1;
    store.save('example', { BTCUSDT: { cooldownUntil: closeTime + MINUTE, entries: 1 } });
    const written = statSync(join(dir, 'strategy-example.json')).mtimeMs;
    // Saving the same state again writes nothing.
    store.save('example', { BTCUSDT: { cooldownUntil: closeTime + MINUTE, entries: 1 } });
    expect(statSync(join(dir, 'strategy-example.json')).mtimeMs).toBe(written);

    const closes = new Float64Array([100, 100, 101, 103]);
    const closeTimes = new Float64Array([3, 2, 1, 0].map((k) => closeTime - k * MINUTE));
    const series: BarSeries = {
      length: 4,
      values: (column) => (column === 'close' ? closes : closeTimes),
    };
    const targets: string[] = [];
    const ctx = {
      name: 'example',
      market: { series: () => series },
      account: { position: () => ({ amount: Decimal.ZERO, entryPrice: Decimal.ZERO, updateTime: 0 }) },
      log: silentLogger('strategy'),
      now: () => closeTime,
      setTarget: (symbol: string, quantity: Decimal) => targets.push(`${symbol} ${quantity.toString()}`),
      quantityFor: () => Decimal.parse('0.01'),
    } as unknown as StrategyContext;
    const bar: BarEvent = {
      type: 'bar',
      symbol: 'BTCUSDT',
      interval: '1m',
      openTime: closeTime + 1 - MINUTE,
      closeTime,
      open: 101,
      high: 103,
      low: 101,
      close: 103,
      volume: 1,
      time: closeTime + 1,
    };
    const fresh = strategy();
    fresh.onBar(ctx, bar);
    expect(targets).toEqual(['BTCUSDT 0.01']);

    targets.length = 0;
    const restored = strategy();
    const state = new FileStrategyStateStore(dir, silentLogger('state')).load('example');
    if (state === undefined) throw new Error('no state');
    restored.restoreState(state);
    restored.onBar(ctx, bar);
    expect(targets).toEqual([]);
    expect(restored.memory('BTCUSDT')).toEqual({ cooldownUntil: closeTime + MINUTE, entries: 1 });
  });
});
