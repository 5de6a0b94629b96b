// Conditional order reconciliation against the simulator and a SQLite store: placed, cancelled and forgotten stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimAccount, startSimAccount } from '../sim/testing/sim-account.js';
import { Decimal } from '../ts/exact/decimal.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import { Logger } from '../ts/log/logger.js';
import { parseRestBookTickers } from '../ts/native/parse.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import type { SqlRecordStore } from '../ts/store/sql/sql-record-store.js';
import type { RecordScope } from '../ts/store/store-records.js';
import { algoOrder } from '../ts/store/testing/record-fixtures.js';
import { sqliteTestDatabase, type TestDatabase } from '../ts/store/testing/test-databases.js';
import { AlgoOrderReconciler } from './algo-order-reconciler.js';

const SCOPE: RecordScope = { mode: 'testnet', account: 'main' };
const SYMBOL = 'BTCUSDT';

let account: SimAccount;
let api: UsdmApi;
let db: TestDatabase;
let store: SqlRecordStore;
const lines: string[] = [];
const logger = new Logger('algo', { level: 'info', format: 'json', sink: (line) => lines.push(line) });

beforeAll(async () => {
  account = await startSimAccount({ seed: 11 });
  api = account.api;
  db = sqliteTestDatabase();
  store = await openSqliteStore(db.sqlitePath ?? '');
}, 30_000);

afterAll(async () => {
  await store?.close();
  await db?.drop();
  await account?.stop();
});

/** A long BTCUSDT position and `count` reduce-only stops under it, 10 % and more below the ask. */
async function stopsUnderALong(count: number): Promise<number[]> {
  const [tick] = parseRestBookTickers((await api.bookTicker({ symbol: SYMBOL })).body);
  if (tick === undefined) throw new Error('no book ticker');
  const ask = Decimal.parse(tick.tick.ask);
  await api.newOrder({ symbol: SYMBOL, side: 'BUY', type: 'MARKET', quantity: Decimal.parse('0.010') });
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const trigger = ask.mul(Decimal.parse(`0.${90 - i}`)).snap(Decimal.parse('0.1'), 'down');
    const placed = await api.newAlgoOrder({
      symbol: SYMBOL,
      side: 'SELL',
      type: 'STOP_MARKET',
      quantity: Decimal.parse('0.002'),
      triggerPrice: trigger,
      reduceOnly: true,
    });
    ids.push(placed.algoId);
  }
  return ids;
}

const statusOf = async (algoId: number) =>
  (await store.algoOrders(SCOPE)).find((a) => a.algoId === String(algoId))?.status;

describe('AlgoOrderReconciler', () => {
  it('stores the open stops the store lacks, then the final state of each stop that left the open list', async () => {
    const [first, second] = await stopsUnderALong(2);
    if (first === undefined || second === undefined) throw new Error('two stops were placed');
    const reconciler = new AlgoOrderReconciler({ store, api, scope: SCOPE, logger });

    const placed = await reconciler.reconcile();
    expect(placed).toMatchObject({ stored: 2, queried: 0, unknown: 0, deferred: 0, refused: 0, requests: 1 });
    const stored = (await store.algoOrders(SCOPE, { open: true })).find((a) => a.algoId === String(first));
    expect(stored).toMatchObject({
      symbol: SYMBOL,
      type: 'STOP_MARKET',
      side: 'SELL',
      status: 'NEW',
      quantity: '0.002',
      reduceOnly: true,
      source: 'rest',
    });

    // A cancel the stream never delivered: the stop left the open list, so it is asked for.
    await api.cancelAlgoOrder({ algoId: first });
    const after = await reconciler.reconcile();
    expect(after).toMatchObject({ stored: 1, queried: 1, unknown: 0, requests: 2 });
    expect(await statusOf(first)).toBe('CANCELED');
    expect(await statusOf(second)).toBe('NEW');

    // Nothing changed: nothing new is stored, and only the open list is read.
    expect(await reconciler.reconcile()).toMatchObject({ stored: 0, queried: 0, requests: 1 });
  });

  it('leaves a stop the exchange does not know as stored, logged, and goes on with the others', async () => {
    const before = (await store.algoOrders(SCOPE, { open: true })).length;
    await store.write({
      algoOrderUpdates: [algoOrder({ ...SCOPE, algoId: '999999001', clientAlgoId: 'gone-1' })],
    });
    const [placed] = await stopsUnderALong(1);
    if (placed === undefined) throw new Error('a stop was placed');
    await api.cancelAlgoOrder({ algoId: placed });
    // The cancelled one was never stored: the exchange's open list does not name it, and neither does the store.
    lines.length = 0;
    const result = await new AlgoOrderReconciler({ store, api, scope: SCOPE, logger }).reconcile();
    expect(result).toMatchObject({ queried: 1, unknown: 1, stored: 0 });
    expect(lines.some((l) => l.includes('unknown to the exchange') && l.includes('999999001'))).toBe(true);
    expect((await store.algoOrders(SCOPE, { open: true })).length).toBe(before + 1);
  });

  it('queries at most its bound of stops a pass and leaves the rest to the next', async () => {
    const ids = await stopsUnderALong(3);
    const reconciler = new AlgoOrderReconciler({ store, api, scope: SCOPE, logger, maxQueries: 2 });
    // Stores the three, and asks once for the stop the exchange does not know (the test before's).
    expect(await reconciler.reconcile()).toMatchObject({ stored: 3, queried: 1, unknown: 1 });
    for (const algoId of ids) await api.cancelAlgoOrder({ algoId });
    // The unknown one is not asked again, so it never takes the others' queries: two asked, one left.
    const first = await reconciler.reconcile();
    expect(first).toMatchObject({ stored: 2, queried: 2, deferred: 1, unknown: 1 });
    const second = await reconciler.reconcile();
    expect(second).toMatchObject({ stored: 1, queried: 1, deferred: 0, unknown: 1 });
    for (const algoId of ids) expect(await statusOf(algoId)).toBe('CANCELED');
  });
});
