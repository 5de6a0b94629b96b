// A backtest recorded in the records store: its orders, fills and ladder stops marked `backtest`, exactly the report's, and a derived round trip.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreTradeRecorder } from '../../trader/execution/store-trade-recorder.js';
import { demoStrategy } from '../../trader/strategies/demo/demo-strategy.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openSqliteStore } from '../../ts/store/open-store.js';
import { sqliteTestDatabase, type TestDatabase } from '../../ts/store/testing/test-databases.js';
import { runBacktest } from './backtest-runner.js';
import { minuteTrades, writeAggTrades } from './testing/trade-files.js';

const START = Date.UTC(2026, 4, 8, 0, 0, 0);
let db: TestDatabase | undefined;

afterEach(async () => {
  await db?.drop();
  db = undefined;
});

describe('a backtest recorded in the store', () => {
  it('keeps every order, fill and stop once, marked backtest, and derives the round trip', async () => {
    db = sqliteTestDatabase();
    const store = await openSqliteStore(db.sqlitePath ?? '');
    const writer = new BufferedRecordWriter(store, { flushMs: 50, maxBatch: 100, logger: silentLogger() });
    const scope = { mode: 'backtest' as const, account: 'demo-test' };
    const file = writeAggTrades(
      'BTCUSDT',
      '2026-05-08',
      minuteTrades(START, [100000, 100000, 102000, 102000, 101000], [100000, 102000, 102000, 101000, 101000]),
    );
    const out = await runBacktest({
      strategyName: 'demo',
      strategy: demoStrategy.create(demoStrategy.config.parse({ notional: '1000' })),
      files: [file],
      record: new StoreTradeRecorder(writer, scope),
    });
    await writer.close();
    const fills = await store.fills(scope);
    expect(fills.map((f) => [f.side, f.price, f.qty, f.commission, f.mode])).toEqual(
      out.recorder.fills.map((f) => [
        f.side,
        f.price.toString(),
        f.quantity.toString(),
        f.commission.toString(),
        'backtest',
      ]),
    );
    expect((await store.orders(scope)).map((o) => [o.status, o.reduceOnly])).toEqual([
      ['FILLED', false],
      ['FILLED', true],
    ]);
    expect(await store.fills({ mode: 'paper', account: 'demo-test' })).toEqual([]);
    // The long's stop-loss ladder: five stops placed when it opened, none left once it closed.
    const stops = await store.algoOrders(scope);
    expect(stops).toHaveLength(5);
    expect(stops.every((s) => s.clientAlgoId.startsWith('sl_') && s.mode === 'backtest')).toBe(true);
    expect(await store.algoOrders(scope, { open: true })).toEqual([]);
    await store.rebuildDerived(scope);
    const [trip] = await store.roundTrips(scope);
    const realized = out.recorder.fills.reduce((s, f) => s.add(f.realizedPnl), Decimal.ZERO);
    const fees = out.recorder.fills.reduce((s, f) => s.add(f.commission), Decimal.ZERO);
    expect(trip?.direction).toBe('LONG');
    expect(Decimal.parse(trip?.netPnl ?? '0').eq(realized.sub(fees))).toBe(true);
    await store.close();
  });
});
