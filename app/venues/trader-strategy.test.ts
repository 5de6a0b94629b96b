// The trader's strategy choice: explicit outside paper mode, settings validated naming their field.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../ts/config/config-error.js';
import { readTributaryConfig } from '../../ts/config/tributary-config.js';
import { chooseStrategy } from './trader-strategy.js';

function trader(section: Record<string, unknown>, exchange: Record<string, unknown> = {}) {
  return readTributaryConfig({ trader: section, exchange }, 'test').trader;
}

function issues(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => ({ path: i.path, message: i.message }));
    throw error;
  }
  throw new Error('no error');
}

describe('chooseStrategy', () => {
  it('runs the demo in paper mode when nothing is configured', () => {
    const chosen = chooseStrategy(trader({}), {}, 'test');
    expect(chosen.name).toBe('demo');
    expect('strategy' in chosen && chosen.strategy.requirements.intervals).toEqual(['1m']);
  });

  it('never defaults in live, testnet or dry-run mode', () => {
    for (const [mode, kind] of [
      ['live', 'binance'],
      ['testnet', 'testnet'],
      ['dry-run', 'binance'],
    ] as const) {
      expect(issues(() => chooseStrategy(trader({ mode }, { kind }), {}, 'test'))).toEqual([
        {
          path: 'trader.strategy',
          message: `is required in mode "${mode}" (name the strategy to run; only paper defaults to demo)`,
        },
      ]);
    }
    const live = trader(
      { mode: 'live', strategy: 'bollinger', strategyConfig: { symbols: ['BTCUSDT'] } },
      { kind: 'binance' },
    );
    expect(chooseStrategy(live, {}, 'test').name).toBe('bollinger');
    expect(
      chooseStrategy(trader({ mode: 'testnet' }, { kind: 'testnet' }), { strategy: 'demo' }, 'test').name,
    ).toBe('demo');
  });

  it('takes the strategy and its settings from the trader section, flags over them, each checked against its schema', () => {
    const configured = trader({
      strategy: 'demo',
      strategyConfig: { notional: '250', symbols: ['ETHUSDT'] },
    });
    const chosen = chooseStrategy(configured, {}, 'test');
    expect('strategy' in chosen && chosen.strategy.requirements.symbols).toEqual(['ETHUSDT']);
    expect(
      issues(() => chooseStrategy(trader({ strategyConfig: { notional: 'lots' } }), {}, 'test')),
    ).toEqual([{ path: 'trader.strategyConfig.notional', message: 'a decimal number written as a string' }]);
    expect(issues(() => chooseStrategy(configured, { strategyConfig: { typo: 1 } }, 'test'))).toEqual([
      { path: '--strategy-config.typo', message: 'is not a known setting' },
    ]);
    expect(issues(() => chooseStrategy(trader({ strategy: 'nope' }), {}, 'test'))[0]).toMatchObject({
      path: 'trader.strategy',
      message: expect.stringMatching(/unknown strategy "nope"/),
    });
    expect(chooseStrategy(configured, { strategy: 'none' }, 'test').name).toBe('none');
  });

  it('the trader section refuses a strategy name or settings of the wrong shape', () => {
    expect(() => readTributaryConfig({ trader: { strategy: 'Demo Strategy' } }, 't')).toThrow(
      /trader\.strategy/,
    );
    expect(() => readTributaryConfig({ trader: { strategyConfig: [1] } }, 't')).toThrow(
      /trader\.strategyConfig/,
    );
  });
});
