// A user's strategy module: imported and registered like a built-in strategy, and every way it can be unusable refused naming the file.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStrategy, StrategyConfigError, strategyDefinitions } from './registry.js';
import { importStrategyModule, registerStrategyModule, StrategyModuleError } from './strategy-module.js';

const FIXTURES = resolve(import.meta.dirname, 'testing', 'strategy-modules');
const fixture = (name: string): string => join(FIXTURES, name);

/** The error `run` rejects with, which must be a `StrategyModuleError`. */
async function refusal(run: () => Promise<unknown>): Promise<StrategyModuleError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof StrategyModuleError) return error;
    throw error;
  }
  throw new Error('no error');
}

/** A module written for one test into a fresh folder (a syntax error the linter could not parse). */
function writeModule(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tributary-strategy-module-')), name);
  writeFileSync(path, text);
  return path;
}

describe('a strategy module', () => {
  it('registers its default export (a function handed the kit) and creates it through the normal path, settings checked by its schema', async () => {
    const file = fixture('buy-first-sell-fifth.mjs');
    const definition = await registerStrategyModule(file);
    expect(definition.name).toBe('buy-first-sell-fifth');
    expect(strategyDefinitions().map((d) => d.name)).toContain('buy-first-sell-fifth');
    const strategy = createStrategy('buy-first-sell-fifth', { symbols: ['ETHUSDT'] });
    expect(strategy.requirements).toEqual({
      symbols: ['ETHUSDT'],
      intervals: ['1m'],
      warmupBars: 0,
      ticks: false,
    });
    // Its settings are refused as a built-in's are, each naming its field.
    let refused: unknown;
    try {
      createStrategy('buy-first-sell-fifth', { quantity: 'lots', colour: 'red' });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StrategyConfigError);
    expect((refused as StrategyConfigError).issues).toEqual([
      { path: ['quantity'], message: 'a decimal number written as a string' },
      { path: ['colour'], message: 'is not a known setting' },
    ]);
    // Loaded again (a second backtest in one process), it is the same strategy, not a duplicate.
    expect(await registerStrategyModule(file)).toBe(definition);
    expect(strategyDefinitions().filter((d) => d.name === 'buy-first-sell-fifth')).toHaveLength(1);
  });

  it('takes a definition object as the default export too, with a zod found from where the module lives', async () => {
    const definition = await importStrategyModule(fixture('own-zod.mjs'));
    expect(definition.name).toBe('own-zod');
    const parsed = definition.config.safeParse({ lookback: 7 });
    expect(parsed.success && definition.create(parsed.data).requirements.warmupBars).toBe(7);
  });

  it('refuses a file that is missing, or not a .js or .mjs file', async () => {
    const missing = fixture('no-such-strategy.mjs');
    const gone = await refusal(() => importStrategyModule(missing));
    expect(gone.file).toBe(missing);
    expect(gone.message).toBe(`strategy module ${missing}: does not exist`);
    const typescript = writeModule('mine.ts', 'export default {};\n');
    expect((await refusal(() => importStrategyModule(typescript))).problem).toBe(
      'must be a .js or .mjs file (an ES module)',
    );
    const folder = `${mkdtempSync(join(tmpdir(), 'tributary-strategy-dir-'))}.mjs`;
    mkdirSync(folder);
    expect((await refusal(() => importStrategyModule(folder))).problem).toBe('is not a file');
  });

  it("refuses a module that cannot be imported, with the import's own message", async () => {
    const broken = writeModule('broken.mjs', "export default {\n  name: 'broken',\n  oops: }\n");
    const error = await refusal(() => importStrategyModule(broken));
    expect(error.file).toBe(broken);
    expect(error.problem).toMatch(/^cannot be imported: .*(SyntaxError|Parse|Unexpected token)/);
    expect(error.problem).not.toContain('\n');
    const throwing = writeModule('throws.mjs', "throw new Error('no market data here');\n");
    expect((await refusal(() => importStrategyModule(throwing))).problem).toBe(
      'cannot be imported: Error: no market data here',
    );
  });

  it('refuses a module whose top-level code never finishes, within the bound', async () => {
    const waiting = writeModule(
      'waits.mjs',
      "await new Promise(() => {});\nexport default { name: 'never', summary: '', config: null, create: null };\n",
    );
    const started = Date.now();
    const error = await refusal(() => importStrategyModule(waiting, 300));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.problem).toBe(
      'did not finish importing within 0.3 s: its top-level code waits on something that never settles',
    );
  });

  it('refuses a module without a default export, saying what it does export', async () => {
    const error = await refusal(() => importStrategyModule(fixture('no-default-export.mjs')));
    expect(error.message).toBe(
      `strategy module ${fixture('no-default-export.mjs')}: has no default export (the strategy definition, or a function returning it); it exports strategy`,
    );
  });

  it('refuses a default export that is not a definition, listing every problem', async () => {
    const error = await refusal(() => importStrategyModule(fixture('wrong-shape.mjs')));
    expect(error.file).toBe(fixture('wrong-shape.mjs'));
    expect(error.problem).toBe(
      'the default export is not a strategy definition: ' +
        [
          'name must be a strategy name (a letter, then letters, digits, _ or -; at most 64 characters), got nothing',
          'config must be a zod schema (with safeParse), got an object',
          'create must be a function (settings → strategy), got the string "buy low, sell high"',
        ].join('; '),
    );
    const number = writeModule('number.mjs', 'export default 42;\n');
    expect((await refusal(() => importStrategyModule(number))).problem).toBe(
      'the default export is a number, not a strategy definition (an object with name, summary, config and create)',
    );
    const none = writeModule(
      'none.mjs',
      "export default ({ z }) => ({ name: 'none', summary: '', config: z.object({}), create: () => ({}) });\n",
    );
    expect((await refusal(() => importStrategyModule(none))).problem).toBe(
      'the default export is not a strategy definition: name "none" is taken: it means the book only',
    );
    const failing = writeModule(
      'failing.mjs',
      "export default () => { throw new Error('needs a licence key'); };\n",
    );
    expect((await refusal(() => importStrategyModule(failing))).problem).toBe(
      'its default export (a function) threw: Error: needs a licence key',
    );
  });

  it('refuses a strategy named as a built-in one, and leaves the built-in in place', async () => {
    const file = fixture('duplicate-name.mjs');
    const error = await refusal(() => registerStrategyModule(file));
    expect(error.file).toBe(file);
    expect(error.problem).toMatch(/^defines strategy "demo", a name another strategy already has \(demo, /);
    expect(strategyDefinitions().filter((d) => d.name === 'demo')).toHaveLength(1);
    // The built-in demo trades every symbol; the module's would have traded BTCUSDT alone.
    expect(createStrategy('demo', {}).requirements.symbols).toBe('all');
  });
});
