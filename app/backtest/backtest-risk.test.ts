// A backtest runs the trader's risk side: stop-loss ladders close a position the market moves against, at their triggers, in both modes; the pre-trade gate refuses; without risk nothing of it happens.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BarEvent } from '../../trader/engine/events.js';
import type { Strategy, StrategyContext } from '../../trader/strategies/strategy-api.js';
import { defaultRiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { runBacktestCommand } from '../cli/backtest.js';
import { reportJson, summarize } from './backtest-report.js';
import { type BacktestOutcome, runBacktest } from './backtest-runner.js';
import { type HandTrade, writeAggTrades } from './testing/trade-files.js';

const START = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;
/** Not a simulator symbol: rules from the data (tick 0.1 from "100.0", BTCUSDT's step 0.001). */
const SYMBOL = 'XYZUSDT';

/** A strategy that asks for `quantity` at market at the close of the first bar, and nothing else. */
function buyOnce(quantity: string): Strategy {
  let bars = 0;
  return {
    requirements: { symbols: [SYMBOL], intervals: ['1m'], warmupBars: 0, ticks: false },
    onBar(ctx: StrategyContext, _bar: BarEvent) {
      bars += 1;
      if (bars === 1) ctx.setTarget(SYMBOL, Decimal.parse(quantity), { reason: 'scripted entry' });
    },
  };
}

/**
 * Minute 0 trades at 100.0 (the last a taker buy: the ask is 100.0, where the entry fills);
 * minute 1 drifts to 97.0; minute 2 trades down through 95.0, 94.5, 94.0, 93.5 and 93.0 (taker
 * sells: each at the bid), 5 s apart; minutes 3 and 4 stay at 93.0.
 */
function fallingTrades(): HandTrade[] {
  const t = (minute: number, second: number, price: string, takerSold: boolean): HandTrade => ({
    time: START + minute * MINUTE + second * 1000,
    price,
    qty: '1.000',
    takerSold,
  });
  return [
    t(0, 10, '100.0', true),
    t(0, 50, '100.0', false),
    t(1, 10, '99.0', true),
    t(1, 40, '97.0', true),
    t(2, 5, '96.0', true),
    t(2, 10, '95.0', true),
    t(2, 15, '94.5', true),
    t(2, 20, '94.0', true),
    t(2, 25, '93.5', true),
    t(2, 30, '93.0', true),
    t(3, 30, '93.0', true),
    t(4, 30, '93.0', true),
  ];
}

/** A 1m klines dump of [open, high, low, close] bars from START. */
function klinesFile(bars: ReadonlyArray<readonly [string, string, string, string]>): string {
  const rows = [
    'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
  ];
  bars.forEach(([o, h, l, c], m) => {
    const open = START + m * MINUTE;
    rows.push(`${open},${o},${h},${l},${c},10.000,${open + MINUTE - 1},1000.0,10,5.000,500.0,0`);
  });
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-risk-'));
  const file = join(dir, `${SYMBOL}-1m-2026-05-08.csv`);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

const fillsOf = (out: BacktestOutcome) =>
  out.recorder.fills.map((f) => ({
    time: f.time,
    side: f.side,
    qty: f.quantity.toString(),
    price: f.price.toString(),
    pnl: f.realizedPnl.toString(),
    commission: f.commission.toString(),
    stop: f.clientOrderId.startsWith('sl_'),
  }));

/**
 * Long 10 at 100.0 (taker fee 1000 × 0.0005 = 0.5), closed by the default ladder (5 rungs of 2, at
 * 5, 5.5, 6, 6.5 and 7 % under the entry: 95.0, 94.5, 94.0, 93.5, 93.0), each rung a taker sell at
 * its trigger: PnL 2 × (−5, −5.5, −6, −6.5, −7) = −60, fees 0.0005 × 2 × (95 + 94.5 + 94 + 93.5 + 93)
 * = 0.47. Net −60 − 0.97 = −60.97.
 */
function expectLadderExits(out: BacktestOutcome, stopTimes: readonly number[]): void {
  const rung = (i: number, price: string, pnl: string, commission: string) => ({
    time: stopTimes[i],
    side: 'SELL',
    qty: '2.000',
    price,
    pnl,
    commission,
    stop: true,
  });
  expect(fillsOf(out)).toEqual([
    {
      time: START + MINUTE,
      side: 'BUY',
      qty: '10.000',
      price: '100.0',
      pnl: '0.00000000',
      commission: '0.50000000',
      stop: false,
    },
    rung(0, '95.0', '-10.00000000', '0.09500000'),
    rung(1, '94.5', '-11.00000000', '0.09450000'),
    rung(2, '94.0', '-12.00000000', '0.09400000'),
    rung(3, '93.5', '-13.00000000', '0.09350000'),
    rung(4, '93.0', '-14.00000000', '0.09300000'),
  ]);
  expect(Decimal.parse(out.realized).eq(Decimal.parse('-60'))).toBe(true);
  expect(Decimal.parse(out.fees).eq(Decimal.parse('0.97'))).toBe(true);
  expect(Decimal.parse(out.finalEquity).eq(Decimal.parse('9939.03'))).toBe(true);
  const s = summarize(out);
  expect(s.fills).toBe(6);
  expect(s.roundTrips).toBe(1);
  expect(s.winRate).toBe(0);
  expect(Decimal.parse(s.pnl).eq(Decimal.parse('-60.97'))).toBe(true);
  expect(s.openPositionsAtEnd).toBe(0);
  expect(out.risk?.stopLoss).toMatchObject({ laddersPlaced: 1, stopsPlaced: 5, failures: 0 });
  expect(out.risk?.state).toBe('ACTIVE');
}

describe('backtest with the risk side', () => {
  it('aggTrades: the ladder closes a long the market falls through, each rung at the trade that reaches its trigger', async () => {
    const file = writeAggTrades(SYMBOL, '2026-05-08', fallingTrades());
    const run = () => runBacktest({ strategyName: 'scripted', strategy: buyOnce('10'), files: [file] });
    const out = await run();
    expectLadderExits(
      out,
      [10, 15, 20, 25, 30].map((s) => START + 2 * MINUTE + s * 1000),
    );
    // The same input gives the same report, byte for byte, risk section included.
    expect(reportJson(await run())).toBe(reportJson(out));
    expect(JSON.parse(reportJson(out)).risk.stopLoss.stopsPlaced).toBe(5);
  });

  it('klines: the bar walk fires each rung at its trigger, booked at the bar’s close', async () => {
    const file = klinesFile([
      ['100.0', '100.0', '100.0', '100.0'],
      // Opens at 99.0, up to 99.5 first (nearer), then down to 92.0 through every rung, closes at 92.5.
      ['99.0', '99.5', '92.0', '92.5'],
      ['92.5', '92.6', '92.4', '92.5'],
    ]);
    const out = await runBacktest({ strategyName: 'scripted', strategy: buyOnce('10'), files: [file] });
    const close = START + 2 * MINUTE - 1;
    expectLadderExits(out, [close, close, close, close, close]);
  });

  it('without it (`risk: false`) the position stays open through the fall, as before', async () => {
    const file = writeAggTrades(SYMBOL, '2026-05-08', fallingTrades());
    const out = await runBacktest({
      strategyName: 'scripted',
      strategy: buyOnce('10'),
      files: [file],
      risk: false,
    });
    expect(fillsOf(out).map((f) => [f.side, f.qty, f.price])).toEqual([['BUY', '10.000', '100.0']]);
    expect(out.risk).toBeNull();
    expect(summarize(out).openPositionsAtEnd).toBe(1);
    // Valued at the last trade, 93.0: 10000 − 0.5 − 10 × 7.
    expect(Decimal.parse(out.finalEquity).eq(Decimal.parse('9929.5'))).toBe(true);
  });

  it('the loss guard force-closes a position 8 % under its entry at the step that sees it (ladders off)', async () => {
    const trades = fallingTrades().slice(0, 5);
    trades.push({ time: START + 2 * MINUTE + 30_000, price: '92.0', qty: '1.000', takerSold: true });
    trades.push({ time: START + 3 * MINUTE + 30_000, price: '92.0', qty: '1.000', takerSold: true });
    const file = writeAggTrades(SYMBOL, '2026-05-08', trades);
    const settings = defaultRiskSettings();
    const out = await runBacktest({
      strategyName: 'scripted',
      strategy: buyOnce('10'),
      files: [file],
      risk: { ...settings, stopLoss: { ...settings.stopLoss, enabled: false } },
    });
    // Minute 2 ends at 92.0 (bid 92.0, ask 92.1: the mid is 7.95 % under 100.0): closed at the bid
    // when the replay steps to 00:03. PnL 10 × −8 = −80, fees 0.5 + 0.0005 × 920 = 0.96.
    expect(fillsOf(out).map((f) => [f.time, f.side, f.qty, f.price, f.stop])).toEqual([
      [START + MINUTE, 'BUY', '10.000', '100.0', false],
      [START + 3 * MINUTE, 'SELL', '10.000', '92.0', false],
    ]);
    expect(Decimal.parse(out.finalEquity).eq(Decimal.parse('9919.04'))).toBe(true);
    expect(out.risk?.stopLoss).toBeNull();
    expect(out.risk?.actions.map((a) => a.action)).toEqual(['force-close']);
  });

  it('the pre-trade gate refuses an opening over maxSymbolNotional, and the report says so', async () => {
    const file = writeAggTrades(SYMBOL, '2026-05-08', fallingTrades());
    // 120 × 100.0 = 12000 USDT, over the default 10000.
    const out = await runBacktest({ strategyName: 'scripted', strategy: buyOnce('120'), files: [file] });
    expect(out.recorder.fills).toEqual([]);
    expect(out.stats.refusedByRisk).toBe(1);
    expect(out.risk?.refusals).toEqual({ 'max-symbol-notional': 1 });
    expect(out.risk?.actions.map((a) => [a.action, a.symbol])).toEqual([['refuse', SYMBOL]]);
  });

  it('`tributary backtest` runs it from the configuration, and not with --no-risk', async () => {
    const file = writeAggTrades(SYMBOL, '2026-05-08', fallingTrades());
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const report = async (extra: string[]) => {
      const out = mkdtempSync(join(tmpdir(), 'tributary-bt-cli-'));
      const code = await runBacktestCommand(['--strategy', 'demo', '-q', '-o', out, ...extra, file]);
      expect(code).toBe(0);
      return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { risk: unknown };
    };
    try {
      expect((await report([])).risk).toMatchObject({ state: 'ACTIVE' });
      expect((await report(['--no-risk'])).risk).toBeNull();
      const printed = write.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('risk        0 stop-loss fills, 0 orders refused');
      expect(printed).toContain('risk        off');
    } finally {
      write.mockRestore();
    }
  });
});
