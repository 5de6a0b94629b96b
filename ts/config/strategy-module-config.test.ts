// trader.strategyModule in the configuration: a name the configuration cannot know is accepted beside a module, a misspelt built-in is still refused without one, the path is the configuration file's.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { readTributaryConfig } from './tributary-config.js';

/** The configuration's problems with `trader`, as printed (`path: message`). */
function issuesOf(trader: Record<string, unknown>): string[] {
  try {
    readTributaryConfig({ trader }, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('trader.strategyModule', () => {
  it('accepts a strategy name nobody built in when a module defines it', () => {
    const trader = readTributaryConfig(
      {
        exchange: { kind: 'binance' },
        trader: { mode: 'live', strategy: 'carry-v2', strategyModule: 'strategies/carry.mjs' },
      },
      'test',
    ).trader;
    expect(trader.strategy).toBe('carry-v2');
    expect(trader.strategyModule).toBe('strategies/carry.mjs');
    expect(issuesOf({ strategy: 'Momentum_3', strategyModule: '/opt/quant/momentum.js' })).toEqual([]);
  });

  it("checks trader.strategy: a built-in's name without a module (as before), the module's strategy beside one", () => {
    // Without a module: the built-in names, refused with the same message as before modules.
    expect(issuesOf({ strategy: 'bolinger' })).toEqual([
      'trader.strategy: unknown strategy "bolinger" (one of demo, bollinger, factor, example; none runs the book only)',
    ]);
    // Reported with the section's other problems, not instead of them.
    expect(issuesOf({ strategy: 'carry-v2', mode: 'sometimes' })).toEqual([
      'trader.mode: must be one of paper, live, testnet, dry-run, got "sometimes"',
      'trader.strategy: unknown strategy "carry-v2" (one of demo, bollinger, factor, example; none runs the book only)',
    ]);
    expect(issuesOf({ strategy: 7 })).toEqual([
      'trader.strategy: must be a strategy name such as "demo", got 7',
    ]);
    // With a module: its strategy's name, which cannot be a built-in's, none, or a name no state file can carry.
    expect(issuesOf({ strategyModule: 'carry.mjs' })).toEqual([
      'trader.strategy: is required with trader.strategyModule: the name of the strategy carry.mjs defines',
    ]);
    expect(issuesOf({ strategyModule: 'carry.mjs', strategy: 'demo' })).toEqual([
      'trader.strategy: "demo" is a built-in strategy; with trader.strategyModule set it names the module\'s strategy (remove trader.strategyModule to run "demo")',
    ]);
    expect(issuesOf({ strategyModule: 'carry.mjs', strategy: 'none' })).toEqual([
      'trader.strategy: "none" runs no strategy, yet trader.strategyModule is set: name the module\'s strategy or remove trader.strategyModule',
    ]);
    expect(issuesOf({ strategyModule: 'carry.mjs', strategy: 'carry/v2' })).toEqual([
      'trader.strategy: "carry/v2" is not a strategy name (a letter, then letters, digits, _ or -; at most 64 characters)',
    ]);
  });

  it('refuses a path that is not a .js or .mjs file', () => {
    expect(issuesOf({ strategyModule: 'strategies/carry.ts', strategy: 'carry' })).toEqual([
      'trader.strategyModule: must be a .js or .mjs file (an ES module), got "strategies/carry.ts"',
    ]);
    expect(issuesOf({ strategyModule: 3, strategy: 'carry' })).toEqual([
      'trader.strategyModule: must be the path of a .js or .mjs file, got 3',
    ]);
  });

  it("is resolved against the configuration file's folder (absolute stays), the working directory's without a file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-strategy-module-config-'));
    mkdirSync(join(dir, 'conf'));
    const file = join(dir, 'conf', 'tributary.json');
    const write = (strategyModule: string) =>
      writeFileSync(file, JSON.stringify({ trader: { strategy: 'carry', strategyModule } }));
    write('../strategies/carry.mjs');
    expect(loadConfig(file, {}).config.trader.strategyModule).toBe(join(dir, 'strategies', 'carry.mjs'));
    write('/opt/quant/carry.mjs');
    expect(loadConfig(file, {}).config.trader.strategyModule).toBe('/opt/quant/carry.mjs');
    const env = { TRIBUTARY__TRADER__STRATEGY: 'carry', TRIBUTARY__TRADER__STRATEGY_MODULE: 'carry.mjs' };
    expect(loadConfig(undefined, env).config.trader.strategyModule).toBe(join(process.cwd(), 'carry.mjs'));
    // Without a module nothing is added.
    expect(loadConfig(undefined, {}).config.trader.strategyModule).toBeUndefined();
  });
});
