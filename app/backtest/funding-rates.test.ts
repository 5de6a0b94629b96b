// Recorded funding in a backtest: fundingRate rows charged at their calc_times and rates, by hand, and the rows and files refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Strategy, StrategyContext } from '../../trader/strategies/strategy-api.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { reportJson, summarize, summaryText } from './backtest-report.js';
import { type BacktestOutcome, runBacktest } from './backtest-runner.js';
import { FundingRateError, FundingRates, fundingLine } from './funding-rates.js';

const DAY = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const HEADER = 'calc_time,funding_interval_hours,last_funding_rate';
/** Not a simulator symbol: rules from the data (tick 0.1 from "100.0"). */
const SYMBOL = 'XYZUSDT';

/** A fresh folder for one test's files. */
const folder = (): string => mkdtempSync(join(tmpdir(), 'tributary-funding-'));

/** A 1m klines day of flat bars: `price(minute)` for each of `minutes` minutes from 00:00. */
function klinesDay(
  dir: string,
  symbol: string,
  date: string,
  minutes: number,
  price: (m: number) => string,
): string {
  const start = Date.parse(`${date}T00:00:00Z`);
  const rows = [
    'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
  ];
  for (let m = 0; m < minutes; m++) {
    const open = start + m * MINUTE;
    const p = price(m);
    rows.push(`${open},${p},${p},${p},${p},10.000,${open + MINUTE - 1},1000.0,10,5.000,500.0,0`);
  }
  const file = join(dir, `${symbol}-1m-${date}.csv`);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

/** A fundingRate file of `lines` (after the header) under its data.binance.vision name. */
function fundingFile(
  dir: string,
  symbol: string,
  month: string,
  lines: readonly string[],
  zip = false,
): string {
  const csv = `${[HEADER, ...lines].join('\n')}\n`;
  const name = `${symbol}-fundingRate-${month}`;
  if (!zip) {
    writeFileSync(join(dir, `${name}.csv`), csv);
    return join(dir, `${name}.csv`);
  }
  writeFileSync(join(dir, `${name}.zip`), Buffer.from(zipSync({ [`${name}.csv`]: strToU8(csv) })));
  return join(dir, `${name}.zip`);
}

/** Takes a position of `quantity` (negative: short) at the first bar's close and holds it. */
function holder(quantity: string, symbols: readonly string[] = [SYMBOL]): Strategy {
  const done = new Set<string>();
  return {
    requirements: { symbols, intervals: ['1m'], warmupBars: 0, ticks: false },
    onBar(ctx: StrategyContext, bar) {
      if (done.has(bar.symbol)) return;
      done.add(bar.symbol);
      ctx.setTarget(bar.symbol, Decimal.parse(quantity), { reason: 'hold' });
    },
  };
}

const run = (files: string[], quantity = '10', symbols?: readonly string[]): Promise<BacktestOutcome> =>
  runBacktest({ strategyName: 'hold', strategy: holder(quantity, symbols), files, risk: false });

/** 100.0 until 12:00, 110.0 after; 16 h 30 min of bars: across the 08:00 and 16:00 funding times. */
const price = (m: number): string => (m < 12 * 60 ? '100.0' : '110.0');
const MINUTES = 16 * 60 + 30;
/** 08:00 at +0.03 %, 16:00 (1 ms late, as Binance's calc_time can be) at −0.02 %; the day's 00:00 and the next day's too. */
const ROWS = [
  `${DAY},8,0.00050000`,
  `${DAY + 8 * HOUR},8,0.00030000`,
  `${DAY + 16 * HOUR + 1},8,-0.00020000`,
  `${DAY + 24 * HOUR},8,0.00010000`,
];

describe('recorded funding in a backtest', () => {
  it('charges a long at each row’s calc_time at its rate on the mark, and the report’s funding and PnL include it', async () => {
    const dir = folder();
    const market = klinesDay(dir, SYMBOL, '2026-05-08', MINUTES, price);
    const out = await run([market, fundingFile(dir, SYMBOL, '2026-05', ROWS)]);
    const [entry] = out.recorder.fills;
    expect(entry).toMatchObject({ side: 'BUY' });
    expect(entry?.quantity.toString()).toBe('10.000');
    // Long 10 pays 10 × 100.0 × 0.0003 = 0.3 at 08:00 and receives 10 × 110.0 × 0.0002 = 0.22 at 16:00
    // (booked at the 16:00 step: calc_time is 1 ms past it). The 00:00 rows are outside the position.
    expect(out.fundingPayments).toEqual([
      { time: DAY + 8 * HOUR, symbol: SYMBOL, income: '-0.30000000' },
      { time: DAY + 16 * HOUR, symbol: SYMBOL, income: '0.22000000' },
    ]);
    expect(out.funding).toBe('-0.08000000');
    // The equity curve moves by the payments at exactly those steps (the price is flat around them).
    const at = (t: number) => Decimal.parse(out.equity.find((p) => p.time === t)?.equity ?? 'NaN');
    expect(
      at(DAY + 8 * HOUR)
        .sub(at(DAY + 8 * HOUR - MINUTE))
        .toString(),
    ).toBe('-0.30000000');
    expect(
      at(DAY + 16 * HOUR)
        .sub(at(DAY + 16 * HOUR - MINUTE))
        .toString(),
    ).toBe('0.22000000');
    // PnL by hand: 10 × (110.0 − entry) − the taker fee 10 × entry × 0.0005 + funding −0.08.
    const entryPrice = entry?.price ?? Decimal.ZERO;
    const commission = entryPrice.mul(Decimal.parse('10')).mul(Decimal.parse('0.0005'));
    // The market buy takes the ask the last close (a taker buy) set: 100.0, so 0.5 in fees.
    expect(entryPrice.eq(Decimal.parse('100.0'))).toBe(true);
    expect(entry?.commission.eq(commission)).toBe(true);
    const pnl = Decimal.parse('110.0')
      .sub(entryPrice)
      .mul(Decimal.parse('10'))
      .sub(commission)
      .add(Decimal.parse('-0.08'));
    // = 10 × 10.0 − 0.5 − 0.08.
    expect(pnl.eq(Decimal.parse('99.42'))).toBe(true);
    const summary = summarize(out);
    expect(Decimal.parse(summary.pnl).eq(pnl)).toBe(true);
    expect(summary.funding).toBe('-0.08000000');
    expect(summary.fundingSource).toBe('recorded from XYZUSDT-fundingRate-2026-05.csv (4 rows)');
    expect(summaryText(out)).toContain('funding     recorded from XYZUSDT-fundingRate-2026-05.csv (4 rows)');
    const json = JSON.parse(reportJson(out)) as {
      funding: { source: string; recorded: unknown[]; assumed: unknown; payments: unknown[] };
    };
    expect(json.funding.source).toBe('recorded');
    expect(json.funding.recorded).toEqual([
      { symbol: SYMBOL, file: 'XYZUSDT-fundingRate-2026-05.csv', rows: 4 },
    ]);
    expect(json.funding.assumed).toBeNull();
    expect(json.funding.payments).toHaveLength(2);
  });

  it('pays a short when the rate is positive and charges it when negative', async () => {
    const dir = folder();
    const market = klinesDay(dir, SYMBOL, '2026-05-08', MINUTES, price);
    const out = await run([market, fundingFile(dir, SYMBOL, '2026-05', ROWS)], '-10');
    expect(out.recorder.fills[0]).toMatchObject({ side: 'SELL' });
    expect(out.fundingPayments.map((p) => p.income)).toEqual(['0.30000000', '-0.22000000']);
    expect(out.funding).toBe('0.08000000');
  });

  it('charges a 4-hour symbol at its 04:00 and 12:00 rows too, read from a zip', async () => {
    const dir = folder();
    const market = klinesDay(dir, SYMBOL, '2026-05-08', MINUTES, price);
    const rows = [4, 8, 12, 16].map(
      (h, i) => `${DAY + h * HOUR},4,${['0.0001', '0.0002', '-0.0003', '0.0004'][i]}`,
    );
    const out = await run([market, fundingFile(dir, SYMBOL, '2026-05', rows, true)]);
    // 10 × 100.0 × (0.0001, 0.0002, −0.0003) before 12:00's mark changes; 10 × 110.0 × 0.0004 at 16:00.
    expect(out.fundingPayments).toEqual([
      { time: DAY + 4 * HOUR, symbol: SYMBOL, income: '-0.10000000' },
      { time: DAY + 8 * HOUR, symbol: SYMBOL, income: '-0.20000000' },
      { time: DAY + 12 * HOUR, symbol: SYMBOL, income: '0.30000000' },
      { time: DAY + 16 * HOUR, symbol: SYMBOL, income: '-0.44000000' },
    ]);
    expect(out.funding).toBe('-0.44000000');
    expect(out.fundingSource.recorded).toEqual([
      { symbol: SYMBOL, file: 'XYZUSDT-fundingRate-2026-05.zip', rows: 4 },
    ]);
  });

  it('without fundingRate files charges the constant every 8 h and says it is assumed', async () => {
    const dir = folder();
    const out = await run([klinesDay(dir, SYMBOL, '2026-05-08', MINUTES, price)]);
    // 10 × 100.0 × 0.0001 at 08:00, 10 × 110.0 × 0.0001 at 16:00: the simulator's constant, as before.
    expect(out.fundingPayments.map((p) => [p.time, p.income])).toEqual([
      [DAY + 8 * HOUR, '-0.10000000'],
      [DAY + 16 * HOUR, '-0.11000000'],
    ]);
    expect(out.fundingSource).toMatchObject({
      source: 'assumed',
      recorded: [],
      assumed: { rate: '0.0001', everyHours: 8, symbols: [SYMBOL] },
    });
    expect(summaryText(out)).toContain(
      "funding     ASSUMED constant 0.0001 every 8 h (00/08/16 UTC) for XYZUSDT, not Binance's rates",
    );
  });

  it('charges a symbol without files the constant beside one with recorded rates, and says which is which', async () => {
    const dir = folder();
    const files = [
      klinesDay(dir, SYMBOL, '2026-05-08', MINUTES, price),
      klinesDay(dir, 'ABCUSDT', '2026-05-08', MINUTES, () => '50.0'),
      fundingFile(dir, SYMBOL, '2026-05', ROWS),
    ];
    const out = await run(files, '10', [SYMBOL, 'ABCUSDT']);
    expect(out.fundingSource.source).toBe('mixed');
    expect(out.fundingPayments.filter((p) => p.symbol === 'ABCUSDT').map((p) => [p.time, p.income])).toEqual([
      [DAY + 8 * HOUR, '-0.05000000'],
      [DAY + 16 * HOUR, '-0.05000000'],
    ]);
    expect(out.fundingPayments.filter((p) => p.symbol === SYMBOL).map((p) => p.income)).toEqual([
      '-0.30000000',
      '0.22000000',
    ]);
    expect(summarize(out).fundingSource).toContain(
      'ASSUMED constant 0.0001 every 8 h (00/08/16 UTC) for ABCUSDT',
    );
  });
});

describe('fundingRate gaps', () => {
  it('counts a gap longer than the rows’ interval and says so', () => {
    const dir = folder();
    const file = fundingFile(dir, SYMBOL, '2026-05', [
      `${DAY},8,0.0001`,
      `${DAY + 16 * HOUR},8,0.0001`,
      `${DAY + 20 * HOUR},4,0.0001`,
    ]);
    const report = FundingRates.load([file], new Map([[SYMBOL, ['XYZUSDT-1m-2026-05-08.csv']]])).report();
    // 00:00 → 16:00 at 8 h leaves 08:00 out; 16:00 → 20:00 at 4 h is whole.
    expect(report.gaps).toBe(1);
    expect(fundingLine(report)).toContain('1 gaps between rows longer than their funding interval');
  });
});

describe('fundingRate files refused', () => {
  /** The run's refusal for a funding file of `lines`, as `file:line: reason`. */
  async function refusal(lines: readonly string[]): Promise<FundingRateError> {
    const dir = folder();
    const files = [
      klinesDay(dir, SYMBOL, '2026-05-08', 10, () => '100.0'),
      fundingFile(dir, SYMBOL, '2026-05', lines),
    ];
    const error = await run(files).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FundingRateError);
    return error as FundingRateError;
  }

  it('refuses malformed rows naming file and line', async () => {
    const ok = `${DAY},8,0.0001`;
    const cases: Array<[string[], number, RegExp]> = [
      [[ok, `${DAY + 8 * HOUR},8,abc`], 3, /last_funding_rate abc is not a decimal number/],
      [[ok, `${DAY + 8 * HOUR},8,0.0301`], 3, /0\.0301 is beyond ±0\.03 per interval/],
      [[ok, `${DAY + 8 * HOUR},8,-0.05`], 3, /beyond ±0\.03/],
      [[`${(DAY + 8 * HOUR) * 1000},8,0.0001`], 2, /is in µs, not ms/],
      [[`${Date.UTC(2026, 5, 1)},8,0.0001`], 2, /2026-06-01T00:00:00.000Z\) is outside 2026-05/],
      [[ok, ok], 3, /repeats the funding time of the row before/],
      [[`${DAY + 8 * HOUR},8,0.0001`, ok], 3, /before the row before .*out of order/],
      [[ok, `${DAY + 8 * HOUR},3,0.0001`], 3, /funding_interval_hours 3 is not 1, 2, 4 or 8/],
      [[ok, `${DAY + 8 * HOUR},8`], 3, /expected calc_time,funding_interval_hours,last_funding_rate/],
    ];
    for (const [lines, line, reason] of cases) {
      const error = await refusal(lines);
      expect(error.line).toBe(line);
      expect(error.message).toMatch(new RegExp(`^XYZUSDT-fundingRate-2026-05\\.csv:${line}: `));
      expect(error.message).toMatch(reason);
    }
  });

  it('refuses a file for a symbol with no market data, a daily name, and a month the market data has without funding', async () => {
    const dir = folder();
    const market = klinesDay(dir, SYMBOL, '2026-05-08', 10, () => '100.0');
    const other = fundingFile(dir, 'ABCUSDT', '2026-05', [`${DAY},8,0.0001`]);
    await expect(run([market, other])).rejects.toThrow(
      /ABCUSDT-fundingRate-2026-05\.csv: no market data \(aggTrades or klines\) given for ABCUSDT/,
    );
    await expect(run([other])).rejects.toBeInstanceOf(FundingRateError);
    const daily = join(dir, `${SYMBOL}-fundingRate-2026-05-08.csv`);
    writeFileSync(daily, `${HEADER}\n${DAY},8,0.0001\n`);
    await expect(run([market, daily])).rejects.toThrow(/published monthly/);
    // May 31 and June 1: June's funding times would charge nothing without its file.
    const may = klinesDay(dir, SYMBOL, '2026-05-31', 1440, () => '100.0');
    const june = klinesDay(dir, SYMBOL, '2026-06-01', 10, () => '100.0');
    const mayFunding = fundingFile(dir, SYMBOL, '2026-05', [`${Date.UTC(2026, 4, 31, 8)},8,0.0001`]);
    await expect(run([may, june, mayFunding])).rejects.toThrow(
      /XYZUSDT-1m-2026-06-01\.csv: no XYZUSDT-fundingRate-2026-06 file given/,
    );
  });
});
