// The trader's strategy from trader.strategyModule: imported from beside the configuration file, created with its settings checked, its state kept; an unusable module stops it naming the file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStrategyStateStore } from '../../trader/engine/strategy-state-file.js';
import { ConfigError } from '../../ts/config/config-error.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { silentLogger } from '../../ts/log/logger.js';
import { runBacktest } from '../backtest/backtest-runner.js';
import { minuteTrades, writeAggTrades } from '../backtest/testing/trade-files.js';
import { checkStrategyModule, chooseConfiguredStrategy, strategyModuleRefusals } from './trader-strategy.js';

const FIXTURES = resolve(import.meta.dirname, '../../trader/strategies/testing/strategy-modules');
const START = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;

/**
 * The trader section as `tributary trader --config <file>` loads it, from a configuration file in
 * a fresh folder that names the fixture `module` by a path relative to that folder.
 */
function traderSettings(module: string, trader: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-trader-module-'));
  const file = join(dir, 'tributary.json');
  const strategyModule = relative(dir, join(FIXTURES, module));
  writeFileSync(file, JSON.stringify({ trader: { strategyModule, ...trader } }));
  return loadConfig(file, {}).config.trader;
}

/** The `ConfigError` issues `run` rejects with. */
async function issues(run: () => Promise<unknown>): Promise<Array<{ path: string; message: string }>> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => ({ path: i.path, message: i.message }));
    throw error;
  }
  throw new Error('no error');
}

describe('the trader with a strategy module', () => {
  it('creates the module strategy with trader.strategyConfig, and keeps its state in strategy-<name>.json', async () => {
    const settings = traderSettings('buy-first-sell-fifth.mjs', {
      strategy: 'buy-first-sell-fifth',
      strategyConfig: { quantity: '0.02' },
    });
    const chosen = await chooseConfiguredStrategy(settings, {}, 'test');
    if (!('strategy' in chosen)) throw new Error('no strategy');
    expect(chosen.name).toBe('buy-first-sell-fifth');
    expect(chosen.strategy.requirements.symbols).toEqual(['BTCUSDT']);

    // Run as the trader runs it, with the state store the trader gives it.
    const closes = [100_000, 100_100, 100_200, 100_300, 100_400, 100_500, 100_600, 100_700];
    const file = writeAggTrades(
      'BTCUSDT',
      '2026-05-08',
      minuteTrades(START, [100_000, ...closes.slice(0, -1)], closes),
    );
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-trader-module-state-'));
    const stateStore = new FileStrategyStateStore(stateDir, silentLogger('state'));
    const out = await runBacktest({
      strategyName: chosen.name,
      strategy: chosen.strategy,
      files: [file],
      stateStore,
    });
    expect(
      out.recorder.fills.map((f) => ({
        side: f.side,
        quantity: f.quantity.toString(),
        minute: (f.time - START) / MINUTE,
      })),
    ).toEqual([
      { side: 'BUY', quantity: '0.020', minute: 1 },
      { side: 'SELL', quantity: '0.020', minute: 5 },
    ]);
    const saved = JSON.parse(
      readFileSync(join(stateDir, 'strategy-buy-first-sell-fifth.json'), 'utf8'),
    ) as unknown;
    // Every minute's bar was seen, the last one's too: what a restart hands back to restoreState.
    expect(saved).toEqual({ bars: { BTCUSDT: closes.length } });

    // Restarted on the same state folder, it goes on counting: its first bar now is the ninth, no entry.
    const again = await chooseConfiguredStrategy(settings, {}, 'test');
    if (!('strategy' in again)) throw new Error('no strategy');
    const restarted = new FileStrategyStateStore(stateDir, silentLogger('state'));
    const rerun = await runBacktest({
      strategyName: again.name,
      strategy: again.strategy,
      files: [file],
      stateStore: restarted,
    });
    expect(rerun.recorder.fills).toEqual([]);
    expect(restarted.load('buy-first-sell-fifth')).toEqual({ bars: { BTCUSDT: 2 * closes.length } });
  });

  it("names the field of a setting the module's schema refuses", async () => {
    const settings = traderSettings('buy-first-sell-fifth.mjs', {
      strategy: 'buy-first-sell-fifth',
      strategyConfig: { sellAtBar: 1, colour: 'red' },
    });
    expect(await issues(() => chooseConfiguredStrategy(settings, {}, 'test'))).toEqual([
      { path: 'trader.strategyConfig.sellAtBar', message: 'Too small: expected number to be >=2' },
      { path: 'trader.strategyConfig.colour', message: 'is not a known setting' },
    ]);
  });

  it('refuses to start with a module it cannot use, naming the file and what is wrong', async () => {
    const cases: Array<[string, RegExp]> = [
      ['missing.mjs', /: does not exist$/],
      [
        'no-default-export.mjs',
        /: has no default export \(the strategy definition, or a function returning it\); it exports strategy$/,
      ],
      [
        'wrong-shape.mjs',
        /: the default export is not a strategy definition: name must be a strategy name .*; config must be a zod schema/,
      ],
      ['duplicate-name.mjs', /: defines strategy "demo", a name another strategy already has/],
    ];
    for (const [module, problem] of cases) {
      const settings = traderSettings(module, { strategy: 'mine' });
      const found = await issues(() => chooseConfiguredStrategy(settings, {}, 'test'));
      expect(found).toHaveLength(1);
      expect(found[0]?.path).toBe('trader.strategyModule');
      expect(found[0]?.message.startsWith(`${join(FIXTURES, module)}: `)).toBe(true);
      expect(found[0]?.message).toMatch(problem);
    }
  });

  it('runs a built-in (or none) chosen by --strategy without importing the module, and still refuses the module when it runs it', async () => {
    for (const module of ['missing.mjs', 'wrong-shape.mjs']) {
      const settings = traderSettings(module, { strategy: 'mine' });
      expect((await chooseConfiguredStrategy(settings, { strategy: 'demo' }, 'test')).name).toBe('demo');
      expect((await chooseConfiguredStrategy(settings, { strategy: 'none' }, 'test')).name).toBe('none');
      // `tributary up` checks by the same rule, for the strategy its traders run.
      await expect(checkStrategyModule(settings, 'test', 'bollinger')).resolves.toBeUndefined();
      const found = await issues(() => chooseConfiguredStrategy(settings, {}, 'test'));
      expect(found.map((i) => i.path)).toEqual(['trader.strategyModule']);
      expect(await issues(() => checkStrategyModule(settings, 'test'))).toEqual(found);
      expect(await issues(() => chooseConfiguredStrategy(settings, { strategy: 'mine' }, 'test'))).toEqual(
        found,
      );
    }
  });

  it('refuses a module whose strategy is not the one trader.strategy names', async () => {
    const settings = traderSettings('own-zod.mjs', { strategy: 'carry' });
    expect(await issues(() => chooseConfiguredStrategy(settings, {}, 'test'))).toEqual([
      {
        path: 'trader.strategy',
        message: `is "carry", but ${join(FIXTURES, 'own-zod.mjs')} defines strategy "own-zod"`,
      },
    ]);
  });

  it('tells a deploy what the trader would refuse, without registering anything', async () => {
    // Two copies of one module, as two hosts may run two versions of a strategy: each is checked as
    // its own trader would check it, so the second is no "name already taken".
    const dir = mkdtempSync(join(tmpdir(), 'tributary-module-copies-'));
    const text = readFileSync(join(FIXTURES, 'buy-first-sell-fifth.mjs'), 'utf8');
    for (const copy of ['v1.mjs', 'v2.mjs']) writeFileSync(join(dir, copy), text);
    for (const copy of ['v1.mjs', 'v2.mjs']) {
      const settings = traderSettings(relative(FIXTURES, join(dir, copy)), {
        strategy: 'buy-first-sell-fifth',
      });
      expect(await strategyModuleRefusals(settings)).toEqual([]);
    }
    expect(
      await strategyModuleRefusals(
        traderSettings('buy-first-sell-fifth.mjs', {
          strategy: 'buy-first-sell-fifth',
          strategyConfig: { sellAtBar: 1, symbol: 'BTCUSDT' },
        }),
      ),
    ).toEqual([
      'trader.strategyConfig.sellAtBar: Too small: expected number to be >=2',
      'trader.strategyConfig.symbol: is not a known setting',
    ]);
    expect(await strategyModuleRefusals(traderSettings('duplicate-name.mjs', { strategy: 'mine' }))).toEqual([
      `trader.strategyModule: ${join(FIXTURES, 'duplicate-name.mjs')} defines strategy "demo", a built-in name: rename it`,
    ]);
    expect(
      await strategyModuleRefusals(traderSettings('no-default-export.mjs', { strategy: 'mine' })),
    ).toEqual([
      expect.stringMatching(/^trader\.strategyModule: .*no-default-export\.mjs: has no default export/),
    ]);
  });
});
