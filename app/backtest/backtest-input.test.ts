// Input a backtest must read right or refuse: spot µs dumps, klines of two intervals, klines given twice.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { demoStrategy } from '../../trader/strategies/demo/demo-strategy.js';
import { runBacktest } from './backtest-runner.js';
import { aggTradesCsv, minuteTrades, writeAggTrades } from './testing/trade-files.js';

const START = Date.UTC(2026, 4, 8, 0, 0, 0);
const OPENS = [100000, 100000, 102000, 102000, 101000];
const CLOSES = [100000, 102000, 102000, 101000, 101000];

const demo = () => demoStrategy.create(demoStrategy.config.parse({ notional: '1000' }));
const fillsOf = (out: Awaited<ReturnType<typeof runBacktest>>) =>
  out.recorder.fills.map((f) => `${f.time} ${f.side} ${f.quantity.toString()} @ ${f.price.toString()}`);

/** 1m kline rows (dump layout) of the minutes' opens and closes; `micros` writes µs times as spot since 2025. */
function klineRows(
  opens: readonly number[],
  closes: readonly number[],
  micros = false,
  firstMinute = 0,
): string {
  const rows = [
    'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
  ];
  opens.forEach((o, m) => {
    const c = closes[m] as number;
    const open = START + (firstMinute + m) * 60_000;
    const close = open + 59_999;
    const t = (ms: number, last: boolean) => (micros ? ms * 1000 + (last ? 999 : 0) : ms);
    rows.push(
      `${t(open, false)},${o.toFixed(1)},${Math.max(o, c).toFixed(1)},${Math.min(o, c).toFixed(1)},${c.toFixed(1)},1.000,${t(close, true)},${c.toFixed(1)},10,0.500,${(c / 2).toFixed(1)},0`,
    );
  });
  return `${rows.join('\n')}\n`;
}

describe('backtest input', () => {
  it('trades a spot aggTrades dump with microsecond times as the same dump in milliseconds', async () => {
    const trades = minuteTrades(START, OPENS, CLOSES);
    const ms = await runBacktest({
      strategyName: 'demo',
      strategy: demo(),
      files: [writeAggTrades('BTCUSDT', '2026-05-08', trades)],
    });
    const us = await runBacktest({
      strategyName: 'demo',
      strategy: demo(),
      files: [
        writeAggTrades(
          'BTCUSDT',
          '2026-05-08',
          trades.map((t) => ({ ...t, time: t.time * 1000 + 123 })),
        ),
      ],
    });
    expect(fillsOf(ms)).toHaveLength(2);
    expect(fillsOf(us)).toEqual(fillsOf(ms));
    expect(us.finalEquity).toBe(ms.finalEquity);
    expect(us.equity).toHaveLength(ms.equity.length);
  });

  it('trades spot klines with microsecond times as the same klines in milliseconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const msFile = join(dir, 'BTCUSDT-1m-2026-05-08.csv');
    writeFileSync(msFile, klineRows(OPENS, CLOSES));
    const usDir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const usFile = join(usDir, 'BTCUSDT-1m-2026-05-08.csv');
    writeFileSync(usFile, klineRows(OPENS, CLOSES, true));
    const ms = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [msFile] });
    const us = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [usFile] });
    expect(fillsOf(ms)).toHaveLength(2);
    expect(fillsOf(us)).toEqual(fillsOf(ms));
    expect(us.equity).toHaveLength(ms.equity.length);
  }, 60_000);

  it('refuses klines of two intervals for one symbol', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const oneMinute = join(dir, 'BTCUSDT-1m-2026-05-08.csv');
    const oneHour = join(dir, 'BTCUSDT-1h-2026-05-08.csv');
    writeFileSync(oneMinute, klineRows(OPENS, CLOSES));
    writeFileSync(oneHour, klineRows([100000], [101000]));
    await expect(
      runBacktest({ strategyName: 'demo', strategy: demo(), files: [oneMinute, oneHour] }),
    ).rejects.toThrow(/BTCUSDT: klines of 1h and 1m mixed/);
  });

  it('replays a month and one of its days given together once, the month first, counting the repeated rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const day = join(dir, 'BTCUSDT-1m-2026-05-08.csv');
    const month = join(dir, 'BTCUSDT-1m-2026-05.csv');
    writeFileSync(day, klineRows(OPENS, CLOSES));
    // The month starts with 5 minutes of the day before (a rise the demo buys), then the same day.
    const before = klineRows(
      [99000, 99000, 101000, 101000, 100000],
      [99000, 101000, 101000, 100000, 100000],
      false,
      -5,
    );
    writeFileSync(month, before + klineRows(OPENS, CLOSES).split('\n').slice(1).join('\n'));
    const monthOnly = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [month] });
    const both = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [day, month] });
    expect(fillsOf(monthOnly)).toHaveLength(4);
    expect(fillsOf(both)).toEqual(fillsOf(monthOnly));
    expect(both.finalEquity).toBe(monthOnly.finalEquity);
    expect(both.equity).toHaveLength(monthOnly.equity.length);
    expect(both.rejectedRows).toBe(OPENS.length);
    expect(monthOnly.rejectedRows).toBe(0);
  });

  it('drops a truncated last line (a cut download), counts it and replays the rest', async () => {
    const trades = minuteTrades(START, OPENS, CLOSES);
    const whole = writeAggTrades('BTCUSDT', '2026-05-08', trades);
    const cut = writeAggTrades('BTCUSDT', '2026-05-08', trades);
    appendFileSync(cut, '99999,101000.0,0.0');
    const a = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [whole] });
    const b = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [cut] });
    expect(fillsOf(b)).toEqual(fillsOf(a));
    expect(b.finalEquity).toBe(a.finalEquity);
    expect(b.rejectedRows).toBe(1);
  });

  it('refuses a bad row, a cut zip and a file that is no zip with a typed error naming the file', async () => {
    const trades = minuteTrades(START, OPENS, CLOSES);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const zeroQty = join(dir, 'BTCUSDT-aggTrades-2026-05-08.csv');
    writeFileSync(zeroQty, aggTradesCsv(trades.map((t, i) => (i === 20 ? { ...t, qty: '0' } : t))));
    await expect(runBacktest({ strategyName: 'demo', strategy: demo(), files: [zeroQty] })).rejects.toThrow(
      expect.objectContaining({
        name: 'BacktestDataError',
        message: expect.stringMatching(/BTCUSDT-aggTrades-2026-05-08\.csv: .*line 21: column quantity/),
      }),
    );
    const zipped = zipSync({ 'BTCUSDT-aggTrades-2026-05-08.csv': strToU8(aggTradesCsv(trades)) });
    const cutZip = join(mkdtempSync(join(tmpdir(), 'tributary-bt-')), 'BTCUSDT-aggTrades-2026-05-08.zip');
    writeFileSync(cutZip, zipped.subarray(0, Math.floor(zipped.length / 2)));
    await expect(runBacktest({ strategyName: 'demo', strategy: demo(), files: [cutZip] })).rejects.toThrow(
      expect.objectContaining({
        name: 'BacktestDataError',
        message: expect.stringContaining('BTCUSDT-aggTrades-2026-05-08.zip: '),
      }),
    );
    const notZip = join(mkdtempSync(join(tmpdir(), 'tributary-bt-')), 'BTCUSDT-aggTrades-2026-05-08.zip');
    writeFileSync(notZip, 'not a zip');
    await expect(runBacktest({ strategyName: 'demo', strategy: demo(), files: [notZip] })).rejects.toThrow(
      expect.objectContaining({
        name: 'BacktestDataError',
        message: expect.stringContaining('BTCUSDT-aggTrades-2026-05-08.zip: '),
      }),
    );
  });

  it('refuses a day missing between two files of a symbol, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const trades = minuteTrades(START, OPENS, CLOSES);
    const first = writeAggTrades('BTCUSDT', '2026-05-08', trades, dir);
    const third = join(dir, 'BTCUSDT-aggTrades-2026-05-10.csv');
    writeFileSync(
      third,
      aggTradesCsv(
        trades.map((t) => ({ ...t, time: t.time + 2 * 86_400_000 })),
        5000,
      ),
    );
    await expect(
      runBacktest({ strategyName: 'demo', strategy: demo(), files: [first, third] }),
    ).rejects.toThrow(
      /BTCUSDT: no file for 2026-05-09 \(between BTCUSDT-aggTrades-2026-05-08\.csv and BTCUSDT-aggTrades-2026-05-10\.csv\)/,
    );
  });

  it('refuses klines of an interval the strategy does not trade on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const oneHour = join(dir, 'BTCUSDT-1h-2026-05-08.csv');
    writeFileSync(oneHour, klineRows(OPENS, CLOSES));
    await expect(runBacktest({ strategyName: 'demo', strategy: demo(), files: [oneHour] })).rejects.toThrow(
      /BTCUSDT: klines of 1h give no 1m bars the strategy trades on/,
    );
  });

  it('reads spot days across the switch to microseconds (2024-12-31 in ms, 2025-01-01 in µs)', async () => {
    // Spot dumps: no header, 8 columns (is_best_match last).
    const spot = (trades: readonly { time: number; price: string }[], firstId: number, micros: boolean) =>
      trades
        .map(
          (t, i) =>
            `${firstId + i},${t.price},0.010,${firstId + i},${firstId + i},${micros ? t.time * 1000 + 7 : t.time},${i % 2 === 0 ? 'True' : 'False'},True\n`,
        )
        .join('');
    const newYear = Date.UTC(2025, 0, 1);
    const before = minuteTrades(newYear - 3 * 60_000, [100000, 100000, 100000], [100000, 100000, 102000]);
    const after = minuteTrades(newYear, [102000, 102000, 101000], [102000, 101000, 101000]);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const msDay = join(dir, 'BTCUSDT-aggTrades-2024-12-31.csv');
    const usDay = join(dir, 'BTCUSDT-aggTrades-2025-01-01.csv');
    writeFileSync(msDay, spot(before, 1, false));
    writeFileSync(usDay, spot(after, 1000, true));
    const oneUnitDir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const msDay2 = join(oneUnitDir, 'BTCUSDT-aggTrades-2024-12-31.csv');
    const msNext = join(oneUnitDir, 'BTCUSDT-aggTrades-2025-01-01.csv');
    writeFileSync(msDay2, spot(before, 1, false));
    writeFileSync(msNext, spot(after, 1000, false));
    const ms = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [msDay2, msNext] });
    const mixed = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [msDay, usDay] });
    expect(fillsOf(ms)).toHaveLength(2);
    expect(fillsOf(mixed)).toEqual(fillsOf(ms));
    expect(mixed.finalEquity).toBe(ms.finalEquity);
  });

  it('takes the contract rules of a symbol the simulator does not list from its klines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const listed = join(dir, 'BTCUSDT-1m-2026-05-08.csv');
    const unlisted = join(dir, 'XYZUSDT-1m-2026-05-08.csv');
    writeFileSync(listed, klineRows(OPENS, CLOSES));
    writeFileSync(unlisted, klineRows(OPENS, CLOSES));
    const btc = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [listed] });
    const xyz = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [unlisted] });
    expect(xyz.assumedSpecs).toEqual(['XYZUSDT']);
    // Same rows, and the rules derived from their prices (0.1 tick) are BTCUSDT's: the same fills.
    const values = (out: typeof btc) => out.recorder.fills.map((f) => [f.time, f.side, f.price.toNumber()]);
    expect(values(btc)).toHaveLength(2);
    expect(values(xyz)).toEqual(values(btc));
    expect(Number(xyz.finalEquity)).toBe(Number(btc.finalEquity));
  });

  it('counts malformed kline rows before the first good one instead of overflowing the stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-'));
    const file = join(dir, 'BTCUSDT-1m-2026-05-08.csv');
    const rows = klineRows(OPENS, CLOSES).split('\n');
    writeFileSync(
      file,
      [rows[0], ...Array.from({ length: 200_000 }, () => '1;2;3'), ...rows.slice(1)].join('\n'),
    );
    const out = await runBacktest({ strategyName: 'demo', strategy: demo(), files: [file] });
    expect(fillsOf(out)).toHaveLength(2);
    expect(out.rejectedRows).toBe(200_000);
  });
});
