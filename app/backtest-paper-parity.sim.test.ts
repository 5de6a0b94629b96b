// System test: one strategy file, unchanged, gives the same fills in a backtest of an aggTrades file and in paper mode against the simulator replaying that file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoStrategy } from '../trader/strategies/demo/demo-strategy.js';
import { Decimal } from '../ts/exact/decimal.js';
import { silentLogger } from '../ts/log/logger.js';
import { runBacktest } from './backtest/backtest-runner.js';
import { aggTradesCsv, minuteTrades } from './backtest/testing/trade-files.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { startTraderTrading, type TraderTrading } from './venues/trader-trading.js';

const MINUTE = 60_000;
/** The simulator's polls share one per-IP weight: poll gently; bars and the touch come from the streams. */
const PACED_COLLECTORS = {
  account: { instances: 1, intervalMs: 1000, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
  income: { instances: 1, intervalMs: 1000 },
  tick: { instances: 1, maxPollsPerSecond: 2 },
};

let rig: CollectorRig | undefined;
let trading: TraderTrading | undefined;
afterEach(async () => {
  await trading?.stop();
  trading = undefined;
  await rig?.stop();
  rig = undefined;
}, 30_000);

/** What must be equal: which order, which side, how much, at what price, for what fee and PnL. */
interface FillFacts {
  clientOrderId: string;
  side: string;
  price: string;
  quantity: string;
  commission: string;
  realizedPnl: string;
}

const norm = (value: unknown) => Decimal.parse(String(value)).normalize().toString();
function facts(f: Record<string, unknown>): FillFacts {
  return {
    clientOrderId: String(f.clientOrderId),
    side: String(f.side),
    price: norm(f.price),
    quantity: norm(f.quantity),
    commission: norm(f.commission),
    realizedPnl: norm(f.realizedPnl),
  };
}

describe('backtest and paper mode give the same fills', () => {
  it('the demo strategy on one aggTrades file: backtest vs the simulator replaying it', async () => {
    // The simulator's clock is set 2 s into a minute, so the replay's minutes are the file's
    // minutes (its trades sit 3..58 s into each minute) and bars close at the same times.
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    const skew = minute + 2_000 - Date.now();
    // Minute 0: +2 % (the demo opens at its close); minute 1: −1 % (it closes); minute 2: flat.
    const trades = minuteTrades(minute, [100_000, 102_000, 101_000], [102_000, 101_000, 101_000]);
    // Ids high enough for the simulator's generated past to fit below them.
    const file = join(
      mkdtempSync(join(tmpdir(), 'tributary-parity-data-')),
      `BTCUSDT-aggTrades-${new Date(minute).toISOString().slice(0, 10)}.csv`,
    );
    writeFileSync(file, aggTradesCsv(trades, 500_000_000));
    const config = { symbols: ['BTCUSDT'], notional: '1000' };

    const backtest = await runBacktest({
      strategyName: 'parity',
      strategy: demoStrategy.create(demoStrategy.config.parse(config)),
      files: [file],
    });
    const expected = backtest.recorder.fills.map((f) => facts(f as unknown as Record<string, unknown>));
    expect(expected.map((f) => f.side)).toEqual(['BUY', 'SELL']);

    rig = await CollectorRig.start({
      collectors: PACED_COLLECTORS,
      source: { kind: 'replay', csvPath: file, symbol: 'BTCUSDT', speed: 1 },
      faults: { clockSkewMs: skew },
      // Stop-loss ladders would add orders of their own; this compares the strategy's.
      risk: { enabled: false },
    });
    const r = rig;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    const trader = await r.trader();
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-parity-'));
    trading = await startTraderTrading(
      trader,
      r.loaded,
      {
        strategyName: 'parity',
        strategy: demoStrategy.create(demoStrategy.config.parse(config)),
        stateDir,
        instance: 0,
      },
      silentLogger('trading'),
    );
    const t = trading;
    // The simulator must still be inside minute 0 for the trader to see that bar close live.
    expect(r.sim.clock.now()).toBeLessThan(minute + 50_000);
    const paperFills = (): FillFacts[] =>
      readFileSync(join(stateDir, 'paper-records.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"record":"fill"'))
        .map((line) => facts(JSON.parse(line) as Record<string, unknown>));
    try {
      await eventually(() => paperFills().length >= 2, 'the paper run’s open and close', 150_000);
    } catch (error) {
      const id = trader.feed.symbolId('BTCUSDT');
      const bars = id === undefined ? [] : trader.book.klines(id, '1m').slice(-5);
      console.log(
        JSON.stringify(
          {
            stats: t.runtime.engine.stats,
            simNow: r.sim.clock.now(),
            minute,
            bars,
            last: t.runtime.market.lastPriceExact('BTCUSDT')?.toString(),
            fills: paperFills(),
            posted: r.requests.filter((q) => q.path === '/fapi/v1/order').map((q) => `${q.method} ${q.body}`),
          },
          null,
          1,
        ),
      );
      throw error;
    }
    expect(paperFills()).toEqual(expected);
    // Both orders went to the simulator over HTTP, once each.
    const posted = r.requests.filter((q) => q.method === 'POST' && q.path === '/fapi/v1/order');
    expect(posted).toHaveLength(2);
  }, 280_000);
});
