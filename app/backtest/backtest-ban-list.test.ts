// A backtest bans as live does: a symbol that lost 150 USDT within 4 h, everything at −3,000 over 24 h, from the run's own income, lifted when the losses roll out of the window; the refusals and changes are in the report.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BarEvent } from '../../trader/engine/events.js';
import type { Strategy, StrategyContext } from '../../trader/strategies/strategy-api.js';
import { defaultRiskSettings, type RiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { IncomeRecord } from '../../ts/exchange/usdm-decoders.js';
import { BacktestBanList } from './backtest-ban-list.js';
import { reportHtml, reportJson, summaryText } from './backtest-report.js';
import { type BacktestOutcome, runBacktest } from './backtest-runner.js';
import { aggTradesCsv, type HandTrade } from './testing/trade-files.js';

const START = Date.UTC(2026, 4, 8);
const MINUTE = 60_000;
const DAY_MINUTES = 1440;
/** Not simulator symbols: rules from the data (tick 0.1, step 0.001). */
const A = 'XYZUSDT';
const B = 'ABCUSDT';
const C = 'QRSUSDT';

/** Targets by `symbol@minute` of the 1m bar that closed, nothing else. */
function scripted(symbols: readonly string[], targets: Readonly<Record<string, string>>): Strategy {
  return {
    requirements: { symbols, intervals: ['1m'], warmupBars: 0, ticks: false },
    onBar(ctx: StrategyContext, bar: BarEvent) {
      const target = targets[`${bar.symbol}@${(bar.openTime - START) / MINUTE}`];
      if (target !== undefined) ctx.setTarget(bar.symbol, Decimal.parse(target), { reason: 'scripted' });
    },
  };
}

/**
 * One trade a minute (at :30) for `minutes` minutes at `price(minute)`, in daily files (each day's
 * file in one folder per symbol).
 */
function tape(symbol: string, minutes: number, price: (minute: number) => string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bt-ban-'));
  const files: string[] = [];
  for (let day = 0; day * DAY_MINUTES < minutes; day++) {
    const trades: HandTrade[] = [];
    const first = day * DAY_MINUTES;
    for (let m = first; m < Math.min(minutes, first + DAY_MINUTES); m++)
      trades.push({ time: START + m * MINUTE + 30_000, price: price(m), qty: '1.000' });
    const file = join(dir, `${symbol}-aggTrades-2026-05-${String(8 + day).padStart(2, '0')}.csv`);
    // Trade ids go on rising across the days, as Binance's do.
    writeFileSync(file, aggTradesCsv(trades, 1000 + first));
    files.push(file);
  }
  return files;
}

/** `[symbol, minute, side, quantity]` of the fills by minute (a target may be several orders, each several fills). */
const fillsOf = (out: BacktestOutcome) => {
  const orders = new Map<string, [string, number, string, Decimal]>();
  for (const f of out.recorder.fills) {
    const key = `${f.symbol}|${f.time}|${f.side}`;
    const known = orders.get(key);
    if (known === undefined) orders.set(key, [f.symbol, (f.time - START) / MINUTE, f.side, f.quantity]);
    else known[3] = known[3].add(f.quantity);
  }
  return [...orders.values()].map(([symbol, minute, side, qty]) => [symbol, minute, side, qty.toString()]);
};

const banActions = (out: BacktestOutcome) =>
  (out.risk?.actions ?? [])
    .filter((a) => a.action === 'ban' || a.action === 'unban' || a.action === 'refuse')
    .map((a) => [(a.time - START) / MINUTE, a.action, a.symbol, a.reason.split(':')[0]]);

describe('the ban list in a backtest', () => {
  it('a symbol that lost over 150 USDT within 4 h is refused openings, others are not, until the loss is 4 h old', async () => {
    // A: 100.0, then 97.0 from minute 2 on; B: 50.0.
    const files = [...tape(A, 260, (m) => (m < 2 ? '100.0' : '97.0')), ...tape(B, 260, () => '50.0')];
    const out = await runBacktest({
      strategyName: 'scripted',
      // Long 100 A at 100.0, closed at 97.0 (−300 and fees, booked at minute 3); then A again at
      // minutes 10, 200, 241 and 242, B at minute 10.
      strategy: scripted([A, B], {
        [`${A}@0`]: '100',
        [`${A}@2`]: '0',
        [`${A}@10`]: '100',
        [`${B}@10`]: '10',
        [`${A}@200`]: '100',
        [`${A}@241`]: '100',
        [`${A}@242`]: '100',
      }),
      files,
    });
    expect(Decimal.parse(out.realized).lte(Decimal.parse('-300'))).toBe(true);
    // A bar closes at the next minute's step, where its order fills; the loss is booked at minute 3.
    expect(fillsOf(out)).toEqual([
      [A, 1, 'BUY', '100.000'],
      [A, 3, 'SELL', '100.000'],
      [B, 11, 'BUY', '10.000'],
      [A, 243, 'BUY', '100.000'],
    ]);
    // The collector's next poll (a minute later) bans A; the poll at minute 243 finds the loss
    // 4 h old and lifts it, before that minute's bars reach the strategy.
    expect(banActions(out)).toEqual([
      [4, 'ban', A, A],
      [11, 'refuse', A, 'ban-list'],
      [201, 'refuse', A, 'ban-list'],
      [242, 'refuse', A, 'ban-list'],
      [243, 'unban', A, `${A} lifted`],
    ]);
    expect(out.risk?.refusals).toEqual({ 'ban-list': 3 });
    const ban = out.risk?.actions.find((a) => a.action === 'ban');
    expect(ban?.reason).toMatch(
      /^XYZUSDT: realized PnL -3\d\d\.\d+ USDT over 4 h, .* \(limits -150 over 4 h/,
    );
    // The report holds the same actions; the summary counts them.
    const report = JSON.parse(reportJson(out)) as { risk: { actions: Array<{ action: string }> } };
    expect(report.risk.actions.map((a) => a.action)).toEqual(['ban', 'refuse', 'refuse', 'refuse', 'unban']);
    expect(summaryText(out)).toContain('1 bans (ban list, 3 refused by it)');
    // The page lists them too, each with its time, symbol and reason.
    const html = reportHtml(out);
    expect(html).toContain('<h2>Risk actions</h2>');
    expect(html).toContain(`<td>${new Date(ban?.time ?? 0).toISOString()}</td><td>ban</td><td>${A}</td>`);
    expect(html.match(/<td>refuse<\/td>/g)).toHaveLength(3);

    // `risk.preTrade.followBanList: false` (a trader's switch) decides the same bans and refuses nothing.
    const settings = defaultRiskSettings();
    const ignoring = await runBacktest({
      strategyName: 'scripted',
      strategy: scripted([A, B], { [`${A}@0`]: '100', [`${A}@2`]: '0', [`${A}@10`]: '100' }),
      files,
      risk: { ...settings, preTrade: { ...settings.preTrade, followBanList: false } },
    });
    expect(fillsOf(ignoring).map((f) => f.slice(0, 3))).toEqual([
      [A, 1, 'BUY'],
      [A, 3, 'SELL'],
      [A, 11, 'BUY'],
    ]);
    expect(banActions(ignoring)).toEqual([
      [4, 'ban', A, A],
      [243, 'unban', A, `${A} lifted`],
    ]);
  });

  it('bans everything when the account lost 3,000 USDT over 24 h, until the loss is 24 h old', async () => {
    const settings = defaultRiskSettings();
    const risk: RiskSettings = {
      ...settings,
      // Positions of 100,000 USDT, so two trades lose 3,000 without a stop or the loss guard acting
      // (1.3 % is short of the ladder's 5 % and the guard's 7 %).
      preTrade: {
        ...settings.preTrade,
        maxSymbolNotional: '200000',
        maxTotalNotional: '400000',
        maxLeverage: '20',
      },
    };
    const minutes = DAY_MINUTES + 10;
    const files = [
      ...tape(A, minutes, (m) => (m < 2 ? '100.0' : '98.7')),
      ...tape(B, minutes, (m) => (m < 4 ? '100.0' : '98.7')),
      ...tape(C, minutes, () => '50.0'),
    ];
    const out = await runBacktest({
      strategyName: 'scripted',
      // A and B each lose 1,300, the book's depth and fees (−1,601.323 and −1,655.25: neither
      // reaches −1,800, so neither is banned for 24 h; together they pass −3,000).
      strategy: scripted([A, B, C], {
        [`${A}@0`]: '1000',
        [`${B}@1`]: '1000',
        [`${A}@2`]: '0',
        [`${B}@4`]: '0',
        [`${C}@10`]: '10',
        [`${C}@300`]: '10',
        [`${C}@1441`]: '10',
        [`${C}@1442`]: '10',
      }),
      files,
      balance: '100000',
      risk,
    });
    expect(fillsOf(out)).toEqual([
      [A, 1, 'BUY', '1000.000'],
      [B, 2, 'BUY', '1000.000'],
      [A, 3, 'SELL', '1000.000'],
      [B, 5, 'SELL', '1000.000'],
      [C, 1443, 'BUY', '10.000'],
    ]);
    expect(banActions(out)).toEqual([
      [4, 'ban', A, A],
      [6, 'ban', null, 'ALL'],
      [6, 'ban', B, B],
      [11, 'refuse', C, 'ban-list'],
      [243, 'unban', A, `${A} lifted`],
      [245, 'unban', B, `${B} lifted`],
      [301, 'refuse', C, 'ban-list'],
      [1442, 'refuse', C, 'ban-list'],
      [1443, 'unban', null, 'ALL lifted'],
    ]);
    const refusals = (out.risk?.actions ?? []).filter((a) => a.action === 'refuse');
    expect(refusals.map((a) => a.reason)).toEqual(Array(3).fill('ban-list: everything is banned (ALL)'));
    expect(out.risk?.actions.find((a) => a.symbol === null && a.action === 'ban')?.reason).toBe(
      "ALL: the account's realized PnL over 24 h is -3256.57300000 USDT (limit -3000)",
    );
  });
});

describe('BacktestBanList', () => {
  const row = (tranId: number, symbol: string, income: string, minute: number): IncomeRecord => ({
    symbol,
    incomeType: 'REALIZED_PNL',
    income: Decimal.parse(income),
    asset: 'USDT',
    info: '',
    time: START + minute * MINUTE,
    tranId: String(tranId),
    tradeId: '',
  });

  it('reads the income only after something was booked, from the newest row seen, and decides at every poll', () => {
    const booked: IncomeRecord[] = [];
    const reads: number[] = [];
    const list = new BacktestBanList(defaultRiskSettings().banList, (startTime) => {
      reads.push(startTime);
      return booked.filter((r) => r.time >= startTime);
    });
    expect(list.poll(START)).toEqual([]);
    booked.push(row(1, A, '-100', 1), row(2, A, '-60', 2));
    // Nothing noted: not read.
    expect(list.poll(START + 3 * MINUTE)).toEqual([]);
    list.noteIncome();
    expect(list.poll(START + 3 * MINUTE).map((c) => [c.action, c.symbol])).toEqual([['ban', A]]);
    expect(list.banned(A)).toBe('SYMBOL');
    expect(list.banned(B)).toBeUndefined();
    expect(list.summary()).toEqual({ all: false, symbols: [A] });
    // The same rows again (the newest row's millisecond is read again) change nothing.
    list.noteIncome();
    expect(list.poll(START + 4 * MINUTE)).toEqual([]);
    expect(reads).toEqual([START - 86_400_000, START + 3 * MINUTE - 86_400_000, START + 2 * MINUTE]);
    // No read, but the window moves: the first loss is 4 h old at minute 241, and the rest is −60.
    expect(list.poll(START + 241 * MINUTE).map((c) => [c.action, c.symbol])).toEqual([['unban', A]]);
    expect(list.banned(A)).toBeUndefined();
    expect(reads).toHaveLength(3);
  });
});
