// The RecordStore contract, run on SQLite and on MariaDB (skipped with a message when no MariaDB answers on 127.0.0.1:3306).
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { openMysqlStore, openSqliteStore } from './open-store.js';
import { SchemaTooNewError, StoreError } from './record-store.js';
import { SCHEMA_VERSION } from './sql/migrations.js';
import type { SqlRecordStore } from './sql/sql-record-store.js';
import type { RecordScope } from './store-records.js';
import { algoOrder, fill, income, order, scriptedDays } from './testing/record-fixtures.js';
import {
  mariadbReachable,
  mariadbTestDatabase,
  sqliteTestDatabase,
  type TestDatabase,
} from './testing/test-databases.js';

const mariadb = await mariadbReachable();
if (!mariadb)
  console.warn(
    'MariaDB is not reachable on 127.0.0.1:3306: the MariaDB half of the store contract is SKIPPED',
  );

const LIVE: RecordScope = { mode: 'live', account: 'main' };
const PAPER: RecordScope = { mode: 'paper', account: 'main' };
const n = (v: string) => Decimal.parse(v).normalize().toString();
/** A plausible time to count from: the store refuses times that are no Unix ms (µs, seconds, ...). */
const T0 = Date.UTC(2024, 0, 1);

const backends: Array<{ name: 'sqlite' | 'mysql'; skip: boolean; make: () => TestDatabase }> = [
  { name: 'sqlite', skip: false, make: sqliteTestDatabase },
  { name: 'mysql', skip: !mariadb, make: mariadbTestDatabase },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`RecordStore contract on ${backend.name}`, () => {
    const opened: SqlRecordStore[] = [];
    const databases: TestDatabase[] = [];

    async function open(db?: TestDatabase): Promise<{ store: SqlRecordStore; db: TestDatabase }> {
      const where = db ?? backend.make();
      if (db === undefined) databases.push(where);
      const store =
        where.kind === 'sqlite'
          ? await openSqliteStore(where.sqlitePath ?? '')
          : await openMysqlStore(where.url ?? '');
      opened.push(store);
      return { store, db: where };
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      for (const d of databases.splice(0)) await d.drop();
    });

    it('migrates a new database to the newest version, and again is a no-op', async () => {
      const { store, db } = await open();
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      await store.close();
      const again = await open(db);
      expect(again.store.schemaVersion).toBe(SCHEMA_VERSION);
    });

    it('brings a version-1 store with records to version 2, keeping them', async () => {
      const { store, db } = await open();
      await store.write({ orderUpdates: [order()] });
      // A store as version 1 left it: no conditional order tables, version 1 applied.
      await store.driver.run('DROP TABLE `algo_orders`');
      await store.driver.run('DROP TABLE `algo_order_updates`');
      await store.driver.run('DELETE FROM `schema_migrations` WHERE `version` = 2');
      await store.close();
      const again = await open(db);
      expect(again.store.schemaVersion).toBe(2);
      expect(await again.store.orders(LIVE)).toEqual([order()]);
      await again.store.write({ algoOrderUpdates: [algoOrder()] });
      expect(await again.store.algoOrders(LIVE, { open: true })).toEqual([algoOrder()]);
    });

    it('refuses a database whose schema is newer than the code', async () => {
      const { store, db } = await open();
      await store.driver.run(
        'INSERT INTO `schema_migrations` (`version`, `description`, `applied_at`) VALUES (?, ?, ?)',
        [SCHEMA_VERSION + 1, 'from the future', Date.now()],
      );
      await store.close();
      const reopening = open(db);
      await expect(reopening).rejects.toBeInstanceOf(SchemaTooNewError);
      await expect(reopening).rejects.toThrow(/newer than this version of tributary knows/);
    });

    it('stores orders, fills and income once by their natural keys, with exact decimal text', async () => {
      const { store } = await open();
      const batch = {
        orderUpdates: [
          order(),
          order({
            status: 'FILLED',
            executionType: 'TRADE',
            executedQty: '0.010',
            avgPrice: '40000.10',
            updateTime: 1_700_000_000_500,
          }),
        ],
        fills: [fill()],
        income: [income(), income({ incomeType: 'REALIZED_PNL', income: '0', tranId: '9002' })],
      };
      expect(await store.write(batch)).toEqual({ inserted: 5, duplicates: 0 });
      expect(await store.write(batch)).toEqual({ inserted: 0, duplicates: 5 });
      // The same fill learned by REST later is the same fill.
      expect(await store.write({ fills: [fill({ source: 'rest', clientOrderId: null })] })).toEqual({
        inserted: 0,
        duplicates: 1,
      });
      const fills = await store.fills(LIVE);
      expect(fills).toHaveLength(1);
      expect(fills[0]).toEqual(fill());
      const orders = await store.orders(LIVE);
      expect(orders).toHaveLength(1);
      expect(orders[0]?.status).toBe('FILLED');
      expect(orders[0]?.origQty).toBe('0.010');
      expect(await store.orderUpdates(LIVE)).toHaveLength(2);
      expect((await store.income(LIVE)).map((i) => [i.incomeType, i.income])).toEqual([
        ['COMMISSION', '-0.16000040'],
        ['REALIZED_PNL', '0'],
      ]);
      // Another mode's records are apart.
      expect(await store.fills(PAPER)).toEqual([]);
    });

    it('keeps the latest state of an order whatever order its states arrive in', async () => {
      const { store } = await open();
      const filled = order({ status: 'FILLED', executedQty: '0.010', updateTime: 1_700_000_000_900 });
      const partial1 = order({
        status: 'PARTIALLY_FILLED',
        executedQty: '0.004',
        updateTime: 1_700_000_000_900,
      });
      const partial2 = order({
        status: 'PARTIALLY_FILLED',
        executedQty: '0.006',
        updateTime: 1_700_000_000_900,
      });
      await store.write({ orderUpdates: [filled] });
      await store.write({ orderUpdates: [partial2, order(), partial1] });
      const [latest] = await store.orders(LIVE);
      expect(latest?.status).toBe('FILLED');
      expect(latest?.executedQty).toBe('0.010');
      // Both partial fills of one millisecond are kept as states.
      expect((await store.orderUpdates(LIVE)).map((u) => `${u.status}:${u.executedQty}`).sort()).toEqual([
        'FILLED:0.010',
        'NEW:0',
        'PARTIALLY_FILLED:0.004',
        'PARTIALLY_FILLED:0.006',
      ]);
      // Within one batch too: the later state wins.
      await store.write({
        orderUpdates: [
          order({ orderId: '7', status: 'CANCELED', updateTime: T0 + 5 }),
          order({ orderId: '7', updateTime: T0 + 4 }),
        ],
      });
      expect((await store.orders(LIVE, { symbol: 'BTCUSDT' })).find((o) => o.orderId === '7')?.status).toBe(
        'CANCELED',
      );
    });

    it('keeps every state of a conditional order once, and its latest whatever order states arrive in', async () => {
      const { store } = await open();
      const placed = algoOrder();
      const canceled = algoOrder({
        status: 'CANCELED',
        source: 'rest',
        createTime: 1_700_000_000_000,
        updateTime: 1_700_000_009_000,
      });
      expect(await store.write({ algoOrderUpdates: [placed] })).toEqual({ inserted: 1, duplicates: 0 });
      // The same state read by REST is the same state; the cancel stored before a late NEW stays the latest.
      expect(
        await store.write({
          algoOrderUpdates: [canceled, algoOrder({ source: 'rest', createTime: 1_700_000_000_000 })],
        }),
      ).toEqual({ inserted: 1, duplicates: 1 });
      expect(await store.write({ algoOrderUpdates: [placed] })).toEqual({ inserted: 0, duplicates: 1 });
      const [latest] = await store.algoOrders(LIVE);
      expect(latest).toEqual(canceled);
      expect((await store.algoOrderUpdates(LIVE)).map((a) => a.status)).toEqual(['NEW', 'CANCELED']);
      expect(await store.algoOrders(LIVE, { open: true })).toEqual([]);
      // Within one millisecond a trigger comes after the wait, whatever order the batch holds them in.
      const at = T0 + 50;
      await store.write({
        algoOrderUpdates: [
          algoOrder({ algoId: '7002', status: 'TRIGGERED', actualOrderId: '9001', updateTime: at }),
          algoOrder({ algoId: '7002', status: 'TRIGGERING', updateTime: at }),
          algoOrder({ algoId: '7003', triggerPrice: '37500.5', updateTime: at }),
          algoOrder({ algoId: '7002', updateTime: at - 10 }),
        ],
      });
      const all = await store.algoOrders(LIVE, { symbol: 'BTCUSDT' });
      expect(all.map((a) => `${a.algoId}:${a.status}:${a.actualOrderId}`)).toEqual([
        '7001:CANCELED:null',
        '7002:TRIGGERED:9001',
        '7003:NEW:null',
      ]);
      const waiting = await store.algoOrders(LIVE, { open: true });
      expect(waiting.map((a) => [a.algoId, a.triggerPrice, a.reduceOnly, a.closePosition])).toEqual([
        ['7003', '37500.5', true, false],
      ]);
      expect(await store.algoOrderUpdates(LIVE, { algoId: '7002' })).toHaveLength(3);
      // Another mode's conditional orders are apart; a time in seconds is refused like any other.
      expect(await store.algoOrders(PAPER)).toEqual([]);
      await expect(
        store.write({ algoOrderUpdates: [algoOrder({ algoId: '7004', updateTime: 1_700_000_000 })] }),
      ).rejects.toThrow(/algoOrderUpdates record refused: update_time is 1700000000/);
    });

    it('writes a batch all or nothing, with its cursors', async () => {
      const { store } = await open();
      const bad = { ...fill({ tradeId: '2' }), price: null as unknown as string };
      await expect(
        store.write({ fills: [fill({ tradeId: '1' }), bad] }, { reconciled: '5' }),
      ).rejects.toBeInstanceOf(StoreError);
      expect(await store.fills(LIVE)).toEqual([]);
      expect(await store.cursor('reconciled')).toBeUndefined();
      await store.write({ fills: [fill({ tradeId: '1' })] }, { reconciled: '6' });
      expect(await store.cursor('reconciled')).toBe('6');
      await store.write({}, { reconciled: '7' });
      expect(await store.cursor('reconciled')).toBe('7');
    });

    it('refuses a batch with a record no column can hold before writing any of it, the same on every database', async () => {
      const { store } = await open();
      const long = fill({ tradeId: '2', clientOrderId: 'x'.repeat(200) });
      const writing = store.write({ fills: [fill({ tradeId: '1' }), long] }, { reconciled: '5' });
      await expect(writing).rejects.toBeInstanceOf(StoreError);
      await expect(writing).rejects.toThrow(/fills record refused: client_order_id is 200 characters/);
      await expect(writing).rejects.toHaveProperty(
        'cause',
        expect.objectContaining({ name: 'RecordRefusedError', kind: 'fills', field: 'client_order_id' }),
      );
      expect(await store.fills(LIVE)).toEqual([]);
      expect(await store.cursor('reconciled')).toBeUndefined();
    });

    it('refuses a batch with a time that is no Unix ms (µs, seconds) before writing any of it', async () => {
      const { store } = await open();
      const micros = fill({ tradeId: '2', time: 1_700_000_000_500_000 });
      const writing = store.write({ fills: [fill({ tradeId: '1' }), micros] }, { reconciled: '5' });
      await expect(writing).rejects.toBeInstanceOf(StoreError);
      await expect(writing).rejects.toThrow(
        /fills record refused: time is 1700000000500000, not a Unix time in ms .*\(microseconds\?\)/,
      );
      await expect(writing).rejects.toHaveProperty(
        'cause',
        expect.objectContaining({
          name: 'RecordTimeRefusedError',
          kind: 'fills',
          field: 'time',
          value: 1_700_000_000_500_000,
        }),
      );
      expect(await store.fills(LIVE)).toEqual([]);
      expect(await store.cursor('reconciled')).toBeUndefined();
      // Every kind a record brings its time in, each at its own column.
      const scope = { ...LIVE };
      const refused = async (batch: Parameters<SqlRecordStore['write']>[0]) =>
        store.write(batch).then(
          () => 'stored',
          (error: StoreError) => (error.cause as { field?: string }).field,
        );
      const seconds = 1_700_000_000;
      expect(
        await Promise.all([
          refused({ orderUpdates: [order({ createTime: seconds })] }),
          refused({ income: [income({ time: seconds })] }),
          refused({
            equity: [{ ...scope, time: seconds, walletBalance: '1', unrealizedPnl: '0', equity: '1' }],
          }),
          refused({
            positions: [
              {
                ...scope,
                time: seconds,
                symbol: 'BTCUSDT',
                positionSide: 'BOTH',
                amount: '0',
                entryPrice: '0',
                markPrice: null,
                unrealizedPnl: '0',
              },
            ],
          }),
          refused({
            balances: [
              {
                ...scope,
                time: seconds,
                asset: 'USDT',
                walletBalance: '1',
                availableBalance: null,
                unrealizedPnl: '0',
              },
            ],
          }),
          refused({
            alerts: [{ time: -1, severity: 'info', source: 's', kind: 'k', message: '', details: '{}' }],
          }),
          refused({
            peers: [
              { time: T0, peer: 'p', role: 'trader', state: 'ready', lastSeen: seconds, details: '{}' },
            ],
          }),
        ]),
      ).toEqual(['create_time', 'time', 'time', 'time', 'time', 'time', 'last_seen']);
    });

    it('splits a large batch into statements under the parameter limit', async () => {
      const { store } = await open();
      const many = Array.from({ length: 6000 }, (_, i) =>
        fill({ tradeId: String(100_000 + i), time: 1_700_000_000_000 + i }),
      );
      expect(await store.write({ fills: many })).toEqual({ inserted: 6000, duplicates: 0 });
      expect(await store.fills(LIVE, { limit: 3 })).toHaveLength(3);
      expect((await store.fills(LIVE, { limit: 1 }))[0]?.tradeId).toBe('105999');
    });

    it('serves the read side: account summary, equity, snapshots, alerts, peers, klines, symbols, marks', async () => {
      const { store } = await open();
      await store.write({
        balances: [
          {
            ...LIVE,
            time: T0 + 60_000,
            asset: 'USDT',
            walletBalance: '10000.00',
            availableBalance: '9000.5',
            unrealizedPnl: '1.5',
          },
          {
            ...LIVE,
            time: T0 + 120_000,
            asset: 'USDT',
            walletBalance: '10010.00',
            availableBalance: null,
            unrealizedPnl: '-2.25',
          },
        ],
        positions: [
          {
            ...LIVE,
            time: T0 + 120_000,
            symbol: 'BTCUSDT',
            positionSide: 'BOTH',
            amount: '0.010',
            entryPrice: '40000',
            markPrice: '40100',
            unrealizedPnl: '1.0',
          },
          {
            ...LIVE,
            time: T0 + 120_000,
            symbol: 'ETHUSDT',
            positionSide: 'BOTH',
            amount: '0',
            entryPrice: '0',
            markPrice: null,
            unrealizedPnl: '0',
          },
        ],
        equity: [
          { ...LIVE, time: T0 + 60_000, walletBalance: '10000.00', unrealizedPnl: '1.5', equity: '10001.50' },
          {
            ...LIVE,
            time: T0 + 120_000,
            walletBalance: '10010.00',
            unrealizedPnl: '-2.25',
            equity: '10007.75',
          },
        ],
        alerts: [
          {
            time: T0 + 5,
            severity: 'warning',
            source: 'recorder-0',
            kind: 'reconciliation',
            message: 'x',
            details: '{}',
          },
        ],
        peers: [
          { time: T0 + 1, peer: 'trader-0', role: 'trader', state: 'ready', lastSeen: T0 + 1, details: '{}' },
          { time: T0 + 2, peer: 'trader-0', role: 'trader', state: 'gone', lastSeen: null, details: '{}' },
        ],
        klines: [
          {
            symbol: 'BTCUSDT',
            interval: '1m',
            openTime: T0,
            closeTime: T0 + 59_999,
            open: '1.0',
            high: '2.0',
            low: '0.5',
            close: '1.5',
            volume: '10',
            quoteVolume: '15',
            trades: 3,
          },
        ],
        symbols: [
          {
            symbol: 'BTCUSDT',
            status: 'TRADING',
            baseAsset: 'BTC',
            quoteAsset: 'USDT',
            tickSize: '0.10',
            stepSize: '0.001',
            minNotional: '100',
            updatedAt: T0 + 1,
          },
        ],
        orderUpdates: [order({ orderId: '11' }), order({ orderId: '12', status: 'CANCELED' })],
        fills: [fill({ time: T0 + 777 })],
      });
      const summary = await store.accountSummary(LIVE);
      expect(summary.time).toBe(T0 + 120_000);
      expect(summary.balances.map((b) => b.walletBalance)).toEqual(['10010.00']);
      expect(summary.positions.map((p) => p.symbol)).toEqual(['BTCUSDT']);
      expect(summary.equity?.equity).toBe('10007.75');
      expect((await store.equitySeries(LIVE, { from: T0 + 100_000 })).map((e) => e.equity)).toEqual([
        '10007.75',
      ]);
      expect(await store.balanceSnapshots(LIVE)).toHaveLength(2);
      expect(await store.positionSnapshots(LIVE, { symbol: 'BTCUSDT' })).toHaveLength(1);
      expect((await store.alerts()).map((a) => a.kind)).toEqual(['reconciliation']);
      expect((await store.peerStatus()).map((p) => p.state)).toEqual(['gone']);
      expect((await store.klines('BTCUSDT', '1m'))[0]?.close).toBe('1.5');
      expect((await store.symbols())[0]?.tickSize).toBe('0.10');
      const marks = await store.symbolMarks(LIVE, 'BTCUSDT');
      expect(marks.openOrderIds).toEqual(['11']);
      expect(marks.lastFillTime).toBe(T0 + 777);
      expect(await store.activeSymbols(LIVE, 0)).toEqual(['BTCUSDT']);
      expect(await store.activeSymbols(PAPER, 0)).toEqual([]);
      // A symbol's listing is replaced, not duplicated.
      await store.write({
        symbols: [
          {
            symbol: 'BTCUSDT',
            status: 'BREAK',
            baseAsset: 'BTC',
            quoteAsset: 'USDT',
            tickSize: '0.10',
            stepSize: '0.001',
            minNotional: null,
            updatedAt: T0 + 2,
          },
        ],
      });
      expect((await store.symbols()).map((s) => s.status)).toEqual(['BREAK']);
    });

    it('derives round trips, daily statistics, per-symbol PnL and large losses from the stored fills and funding', async () => {
      const { store } = await open();
      const { fills, funding } = scriptedDays();
      await store.write({ fills, income: funding });
      expect(await store.rebuildDerived(LIVE)).toEqual({ roundTrips: 3, days: 3 });
      // Rebuilding again replaces, never adds.
      expect(await store.rebuildDerived(LIVE, ['BTCUSDT'])).toEqual({ roundTrips: 2, days: 2 });
      const trips = await store.roundTrips(LIVE);
      expect(trips.map((t) => [t.symbol, t.direction, n(t.netPnl)])).toEqual([
        ['BTCUSDT', 'LONG', '20.4234'],
        ['BTCUSDT', 'SHORT', '-5.9206'],
        ['ETHUSDT', 'SHORT', '5'],
      ]);
      const totals = await store.dailyTotals(LIVE);
      expect(
        totals.map((t) => [
          t.day,
          n(t.realizedPnl),
          n(t.commission),
          n(t.funding),
          n(t.netPnl),
          t.roundTrips,
        ]),
      ).toEqual([
        ['2026-01-05', '22', '1.1372', '-0.603', '20.2598', 1],
        ['2026-01-06', '-1', '0.166', '0.409', '-0.757', 2],
      ]);
      const bySymbol = await store.symbolPnl(LIVE);
      expect(bySymbol.map((s) => [s.symbol, n(s.netPnl)])).toEqual([
        ['ETHUSDT', '5'],
        ['BTCUSDT', '14.5028'],
      ]);
      // A symbol's fills are its daily rows' (the dashboard's "Fills all"), adding up to the days'.
      expect(bySymbol.reduce((sum, s) => sum + s.fills, 0)).toBe(totals.reduce((sum, t) => sum + t.fills, 0));
      expect(bySymbol.every((s) => s.fills > 0)).toBe(true);
      expect((await store.symbolPnl(LIVE, '2026-01-06')).map((s) => [s.symbol, n(s.netPnl)])).toEqual([
        ['BTCUSDT', '-5.757'],
        ['ETHUSDT', '5'],
      ]);
      expect((await store.largeLosses(LIVE, '-1')).map((t) => n(t.netPnl))).toEqual(['-5.9206']);
    });
  });
}
