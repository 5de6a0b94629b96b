// System test: one strategy file, unchanged, gives the same fills in a backtest of an aggTrades file and in paper mode against the simulator replaying that file.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoStrategy } from '../trader/strategies/demo/demo-strategy.js';
import { Decimal } from '../ts/exact/decimal.js';
import { silentLogger } from '../ts/log/logger.js';
import { waitUntil } from '../ts/testing/wait-until.js';
import { runBacktest } from './backtest/backtest-runner.js';
import { aggTradesCsv, minuteTrades } from './backtest/testing/trade-files.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { PACED_COLLECTORS } from './testing/trading-session.js';
import { startTraderTrading, type TraderTrading } from './venues/trader-trading.js';

const MINUTE = 60_000;
const FIRST_ID = 500_000_000;
/** The file's trades: five minutes of twelve. */
const TRADES = 60;
let rig: CollectorRig | undefined;
let trading: TraderTrading | undefined;
afterEach(async () => {
  await trading?.stop();
  trading = undefined;
  await rig?.stop();
  rig = undefined;
  // A poller waiting for the simulator's weight budget finishes that wait before it stops.
}, 90_000);

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
  // The simulator's clock is set back by up to a minute against this machine's: bars are final
  // when the exchange (or a collector that saw every trade) says so, by the exchange's time.
  it('the demo strategy on one aggTrades file: backtest vs the simulator replaying it', async () => {
    // Minutes 0 and 1: flat, minute 2: a steep rise (+4 %), minute 3: a steep fall (−4 %), minute
    // 4: flat. However the replay's start slips against the simulator's minutes (it is read back
    // below), some minute of the simulator rises more than 1 % (the demo opens) and a later one
    // falls more than 0.5 % (it closes). The flat minutes leave the setup below (simulator,
    // collectors, hub, trader) two minutes to be trading before the rise closes: under load it took
    // over a minute (the rise closed before the strategy ran, and nothing ever opened).
    // Ids high enough for the simulator's generated past to fit below them.
    const MINUTE_0 = Math.floor(Date.now() / MINUTE) * MINUTE;
    const dir = mkdtempSync(join(tmpdir(), 'tributary-parity-data-'));
    const file = join(dir, `BTCUSDT-aggTrades-${new Date(MINUTE_0).toISOString().slice(0, 10)}.csv`);
    writeFileSync(
      file,
      aggTradesCsv(
        minuteTrades(
          MINUTE_0,
          [100_000, 100_000, 100_000, 104_000, 100_000],
          [100_000, 100_000, 104_000, 100_000, 100_000],
        ),
        FIRST_ID,
      ),
    );
    const config = { symbols: ['BTCUSDT'], notional: '1000' };
    // The simulator's clock starts 2 s into a minute, so the replay's minutes hold the file's
    // minutes (its trades sit 3..58 s into each); how far the start slips under load is read back below.
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    rig = await CollectorRig.start({
      collectors: PACED_COLLECTORS,
      source: { kind: 'replay', csvPath: file, symbol: 'BTCUSDT', speed: 1 },
      faults: { clockSkewMs: minute + 2_000 - Date.now() },
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
    const fills: FillFacts[] = [];
    trading.runtime.engine.queue.on('fill', (f) => {
      fills.push(facts(f as unknown as Record<string, unknown>));
    });
    const paperFills = (): FillFacts[] => fills;
    try {
      await eventually(() => paperFills().length >= 2, 'the paper run’s open and close', 360_000);
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
    // The trades exactly as the simulator replayed them (its replay starts when its market does,
    // a little after the clock was set), as a data.binance.vision file. Our own fills on its tape
    // come after the file's ids.
    type Row = { a: number; p: string; q: string; T: number; m: boolean };
    let replayed: Row[] = [];
    // Polled once a second: the simulator's request weight is shared with the collectors.
    await waitUntil(
      async () => {
        const answer = await fetch(
          `${r.sim.restUrl}/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=${FIRST_ID}&limit=1000`,
        );
        replayed = ((await answer.json()) as Row[]).filter((row) => row.a < FIRST_ID + TRADES);
        return replayed.length === TRADES;
      },
      'the end of the replay',
      150_000,
      1_000,
    );
    expect(replayed).toHaveLength(TRADES);
    const replayedFile = join(
      dir,
      'replayed',
      `BTCUSDT-aggTrades-${new Date(minute).toISOString().slice(0, 10)}.csv`,
    );
    mkdirSync(join(dir, 'replayed'));
    writeFileSync(
      replayedFile,
      aggTradesCsv(
        replayed.map((row) => ({ time: row.T, price: row.p, qty: row.q, takerSold: row.m })),
        FIRST_ID,
      ),
    );
    const backtest = await runBacktest({
      strategyName: 'parity',
      strategy: demoStrategy.create(demoStrategy.config.parse(config)),
      files: [replayedFile],
    });
    const expected = backtest.recorder.fills.map((f) => facts(f as unknown as Record<string, unknown>));
    expect(expected.map((f) => f.side)).toEqual(['BUY', 'SELL']);
    if (JSON.stringify(paperFills()) !== JSON.stringify(expected)) {
      const id = trader.feed.symbolId('BTCUSDT');
      console.log(
        JSON.stringify({
          paper: fills,
          backtestOrders: backtest.recorder.orders,
          bars: id === undefined ? [] : trader.book.klines(id, '1m').slice(-5),
        }),
      );
    }
    expect(paperFills()).toEqual(expected);
    // Both orders went to the simulator over HTTP, once each.
    const posted = r.requests.filter((q) => q.method === 'POST' && q.path === '/fapi/v1/order');
    expect(posted).toHaveLength(2);
  }, 600_000);
});
