// `tributary backtest --strategy-module`: a user's strategy module backtested end to end on a small recorded day, and a module it cannot use refused naming the file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StrategyModuleError } from '../../trader/strategies/strategy-module.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { minuteTrades, writeAggTrades } from '../backtest/testing/trade-files.js';
import { runBacktestCommand } from './backtest.js';
import { UsageError } from './usage-error.js';

const FIXTURES = resolve(import.meta.dirname, '../../trader/strategies/testing/strategy-modules');
const MODULE = join(FIXTURES, 'buy-first-sell-fifth.mjs');
const START = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;
// Eight minutes of BTCUSDT rising 100 a minute.
const CLOSES = [100_100, 100_200, 100_300, 100_400, 100_500, 100_600, 100_700, 100_800];
const OPENS = [100_000, ...CLOSES.slice(0, -1)];

interface Report {
  readonly strategy: string;
  readonly fills: ReadonlyArray<{ time: number; side: string; quantity: string; price: string }>;
}

/** Runs the command quietly into a fresh report folder; the report and what it printed. */
async function backtest(args: string[]): Promise<{ report: Report; printed: string }> {
  const out = mkdtempSync(join(tmpdir(), 'tributary-bt-module-'));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await runBacktestCommand([...args, '-q', '-o', out])).toBe(0);
    const printed = write.mock.calls.map((c) => String(c[0])).join('');
    return { report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report, printed };
  } finally {
    write.mockRestore();
  }
}

describe('tributary backtest --strategy-module', () => {
  it("trades the module's strategy: buys at the first bar's close, sells at the fifth's", async () => {
    const data = writeAggTrades('BTCUSDT', '2026-05-08', minuteTrades(START, OPENS, CLOSES));
    const { report, printed } = await backtest([
      '--strategy-module',
      MODULE,
      '--strategy-config',
      '{"quantity":"0.05"}',
      data,
    ]);
    expect(report.strategy).toBe('buy-first-sell-fifth');
    // A market order may fill against several recorded trades: what matters is each side's total and time.
    const sides = report.fills.map((f) => ({ side: f.side, minute: (f.time - START) / MINUTE }));
    expect([...new Set(sides.map((s) => `${s.side} ${s.minute}`))]).toEqual(['BUY 1', 'SELL 5']);
    const total = (side: string) =>
      report.fills
        .filter((f) => f.side === side)
        .reduce((sum, f) => sum.add(Decimal.parse(f.quantity)), Decimal.ZERO)
        .toString();
    expect([total('BUY'), total('SELL')]).toEqual(['0.050', '0.050']);
    expect(printed).toMatch(/trades +\d+ fills, 1 round trips/);
    // Named explicitly as well, the same run.
    const named = await backtest(['--strategy', 'buy-first-sell-fifth', '--strategy-module', MODULE, data]);
    expect(named.report.fills.map((f) => f.side)).toEqual(['BUY', 'SELL']);
  });

  it('refuses a module it cannot use, a --strategy the module does not define, and settings its schema refuses', async () => {
    const data = writeAggTrades('BTCUSDT', '2026-05-08', minuteTrades(START, OPENS, CLOSES));
    const wrong = join(FIXTURES, 'wrong-shape.mjs');
    const refused = runBacktestCommand(['--strategy-module', wrong, '-q', data]);
    await expect(refused).rejects.toBeInstanceOf(StrategyModuleError);
    await expect(refused).rejects.toThrow(
      `strategy module ${wrong}: the default export is not a strategy definition: name must be`,
    );
    await expect(
      runBacktestCommand(['--strategy', 'demo', '--strategy-module', MODULE, '-q', data]),
    ).rejects.toThrow(
      new UsageError(`--strategy is "demo", but ${MODULE} defines strategy "buy-first-sell-fifth"`),
    );
    await expect(
      runBacktestCommand(['--strategy-module', MODULE, '--strategy-config', '{"colour":"red"}', '-q', data]),
    ).rejects.toThrow('strategy.buy-first-sell-fifth.colour: is not a known setting');
  });
});
