// The recorder process with an in-test hub, a scripted exchange and a SQLite store: what its snapshots rebuild after a reconciliation.
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { markPriceMessage } from '../ts/exchange/testing/market-event-json.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import type { TradeRecord } from '../ts/exchange/usdm-decoders.js';
import { HubClient } from '../ts/hub/hub-client.js';
import type { HubServer } from '../ts/hub/hub-server.js';
import { keyOf, SYMBOLS, startHub } from '../ts/hub/testing/hub-fixtures.js';
import { silentLogger } from '../ts/log/logger.js';
import { IngestEncoder } from '../ts/native/hub.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import type { SqlRecordStore } from '../ts/store/sql/sql-record-store.js';
import type { RecordScope } from '../ts/store/store-records.js';
import { sqliteTestDatabase, type TestDatabase } from '../ts/store/testing/test-databases.js';
import { insertUncheckedFills } from '../ts/store/testing/unchecked-rows.js';
import { RecorderProcess } from './recorder-process.js';

const SCOPE: RecordScope = { mode: 'testnet', account: 'main' };

let hub: HubServer | undefined;
let db: TestDatabase | undefined;
let store: SqlRecordStore | undefined;
let recorder: RecorderProcess | undefined;
let collector: HubClient | undefined;

afterEach(async () => {
  await collector?.close();
  collector = undefined;
  await recorder?.stop();
  await store?.close();
  await db?.drop();
  await hub?.close();
});

/** An exchange whose account is flat and whose history holds `trades` (set by the test). */
function scriptedApi(trades: TradeRecord[]): UsdmApi {
  const body = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)) });
  return {
    income: async () => body([]),
    openOrders: async () => [],
    openAlgoOrders: async () => [],
    allOrders: async () => [],
    allAlgoOrders: async () => [],
    userTrades: async () => [...trades],
    accountV3: async () =>
      body({
        assets: [
          {
            asset: 'USDT',
            walletBalance: '1000',
            unrealizedProfit: '0',
            availableBalance: '1000',
            crossWalletBalance: '1000',
            updateTime: 1,
          },
        ],
        positions: [],
      }),
    positionRiskV3: async () => body([]),
    exchangeInfo: async () => {
      throw new Error('not scripted');
    },
  } as unknown as UsdmApi;
}

const trade = (
  id: number,
  side: 'BUY' | 'SELL',
  price: string,
  realizedPnl: string,
  time: number,
): TradeRecord => ({
  symbol: 'BTCUSDT',
  id,
  orderId: 100 + id,
  side,
  positionSide: 'BOTH',
  price: Decimal.parse(price),
  qty: Decimal.parse('0.010'),
  quoteQty: Decimal.parse(price).mul(Decimal.parse('0.010')),
  realizedPnl: Decimal.parse(realizedPnl),
  commission: Decimal.parse('0.1'),
  commissionAsset: 'USDT',
  buyer: side === 'BUY',
  maker: false,
  time,
});

/** A recorder of SCOPE into `store` through `hub`: snapshots (and their rebuilds) every second, reconciliation only when asked. */
function recorderOf(on: HubServer, api: UsdmApi, symbols: string[]): RecorderProcess {
  if (store === undefined) throw new Error('open the store first');
  return new RecorderProcess({
    store,
    api,
    scope: SCOPE,
    settings: {
      enabled: true,
      reconcileMs: 3_600_000,
      incomeMs: 3_600_000,
      snapshotMs: 1000,
      lookbackMs: 86_400_000,
      overlapMs: 120_000,
      activeDays: 7,
      symbols,
      klineSymbols: [],
      klineIntervals: [],
    },
    hub: { url: on.url, key: keyOf('viewer'), peer: 'recorder-0' },
    writer: { flushMs: 20, maxBatch: 100 },
    logger: silentLogger('recorder'),
  });
}

describe('RecorderProcess', () => {
  it('rebuilds round trips and daily rows of fills a reconciliation found long after they happened', async () => {
    hub = await startHub('ws');
    db = sqliteTestDatabase();
    store = await openSqliteStore(db.sqlitePath ?? '');
    const trades: TradeRecord[] = [];
    recorder = recorderOf(hub, scriptedApi(trades), ['BTCUSDT']);
    await recorder.start();
    await recorder.settled();
    // While the user stream was away, a round trip opened and closed an hour ago; the next full
    // pass (a stream-gap notice) finds it by REST.
    const hourAgo = Date.now() - 3_600_000;
    trades.push(trade(1, 'BUY', '40000', '0', hourAgo), trade(2, 'SELL', '40500', '5', hourAgo + 60_000));
    await recorder.reconcileNow('user stream reconnected');
    expect(await store.fills(SCOPE)).toHaveLength(2);
    // Snapshots run every second and rebuild what changed: give them a few.
    for (let i = 0; i < 40 && (await store.roundTrips(SCOPE)).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await store.roundTrips(SCOPE)).map((t) => [t.direction, t.realizedPnl, t.netPnl])).toEqual([
      ['LONG', '5', '4.8'],
    ]);
    expect((await store.dailyStats(SCOPE)).map((d) => [d.symbol, d.fills])).toEqual([['BTCUSDT', 2]]);
  }, 20_000);

  it('rebuilds every other symbol when one symbol cannot be rebuilt', async () => {
    hub = await startHub('ws');
    db = sqliteTestDatabase();
    store = await openSqliteStore(db.sqlitePath ?? '');
    const hourAgo = Date.now() - 3_600_000;
    const fill = (symbol: string, id: number, side: 'BUY' | 'SELL', realizedPnl: string, time: number) => ({
      ...SCOPE,
      symbol,
      tradeId: String(id),
      orderId: String(100 + id),
      clientOrderId: null,
      side,
      positionSide: 'BOTH',
      price: '100',
      qty: '1',
      quoteQty: '100',
      realizedPnl,
      commission: '0',
      commissionAsset: 'USDT',
      maker: false,
      time,
      source: 'stream' as const,
    });
    // AAAUSDT holds a fill stamped beyond any date (the store refuses one now; a database written
    // before may hold it): its daily row cannot be computed. BTCUSDT's round trip must be rebuilt all the same.
    await insertUncheckedFills(store, [fill('AAAUSDT', 1, 'BUY', '0', 9_000_000_000_000_000)]);
    await store.write({
      fills: [fill('BTCUSDT', 2, 'BUY', '0', hourAgo), fill('BTCUSDT', 3, 'SELL', '1', hourAgo + 1000)],
    });
    recorder = recorderOf(hub, scriptedApi([]), []);
    await recorder.start();
    for (let i = 0; i < 30 && (await store.roundTrips(SCOPE)).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await store.roundTrips(SCOPE)).map((t) => [t.symbol, t.realizedPnl])).toEqual([['BTCUSDT', '1']]);
  }, 20_000);

  it('values each snapshot’s position at the hub’s fresh mark, not at the mark of its last change', async () => {
    hub = await startHub('ws');
    db = sqliteTestDatabase();
    store = await openSqliteStore(db.sqlitePath ?? '');
    recorder = recorderOf(hub, scriptedApi([]), ['BTCUSDT']);
    await recorder.start();
    collector = new HubClient({
      url: hub.url,
      peer: 'account-0',
      kind: 'account',
      key: keyOf('collector'),
      logger: silentLogger('c'),
    });
    await collector.connect();
    // The position changed a few seconds ago at mark 93,100; the mark has moved to 93,200 since.
    const changedAt = Date.now() - 5_000;
    const encoder = new IngestEncoder(SYMBOLS);
    encoder.pushPosition(SYMBOLS.indexOf('BTCUSDT'), {
      side: 'BOTH',
      amount: '0.010',
      entryPrice: '93000.10',
      markPrice: '93100.00',
      unrealizedPnl: '0.99900000',
      updateTime: changedAt,
    });
    encoder.pushBalance({
      asset: 'USDT',
      walletBalance: '1000',
      availableBalance: '990',
      updateTime: changedAt,
    });
    const markedAt = Date.now() - 1_000;
    encoder.pushMarketEvents([markPriceMessage('BTCUSDT', '93200.00', markedAt)]);
    const frame = encoder.takeFrame(1, Date.now());
    if (frame === null) throw new Error('no frame');
    collector.sendIngest(frame);
    // Snapshots run every second: the first one after the frame reached the recorder's view.
    let snapshots = await store.positionSnapshots(SCOPE);
    for (let i = 0; i < 50 && !snapshots.some((p) => p.markPrice === '93200.00'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      snapshots = await store.positionSnapshots(SCOPE);
    }
    // 0.010 × (93,200 − 93,000.10) = 1.999, Binance's formula at the mark, exact.
    expect(snapshots.map((p) => `${p.symbol} ${p.amount} ${p.markPrice} ${p.unrealizedPnl}`)).toContain(
      'BTCUSDT 0.010 93200.00 1.999',
    );
  }, 20_000);
});
