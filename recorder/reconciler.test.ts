// The reconciler against the simulator and a SQLite store: what each kind of pass reads by REST, from which cursors, and what it stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimAccount, startSimAccount } from '../sim/testing/sim-account.js';
import { Decimal } from '../ts/exact/decimal.js';
import type { UsdmApi } from '../ts/exchange/usdm-api.js';
import type { AlgoOrderRecord, OrderRecord, TradeRecord } from '../ts/exchange/usdm-decoders.js';
import { Logger, silentLogger } from '../ts/log/logger.js';
import { openSqliteStore } from '../ts/store/open-store.js';
import type { SqlRecordStore } from '../ts/store/sql/sql-record-store.js';
import type { RecordScope } from '../ts/store/store-records.js';
import { sqliteTestDatabase, type TestDatabase } from '../ts/store/testing/test-databases.js';
import { nextCursor, parseSymbolCursor, Reconciler } from './reconciler.js';

const SCOPE: RecordScope = { mode: 'testnet', account: 'main' };
const SETTINGS = { lookbackMs: 3_600_000, overlapMs: 60_000, activeDays: 1, symbols: [] };

let account: SimAccount;
/** What the REST client logged at warn and above. */
const restWarnings: string[] = [];
let api: UsdmApi;
let db: TestDatabase;
let store: SqlRecordStore;
/** Every API call the reconciler makes, as `method {params}`. */
const calls: string[] = [];

/** The API, with every call written to `calls` (what a pass asked, and how). */
function recordedApi(inner: UsdmApi): UsdmApi {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(property)} ${JSON.stringify(args[0] ?? {})}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

beforeAll(async () => {
  account = await startSimAccount({
    seed: 7,
    restLogger: new Logger('rest', {
      level: 'warn',
      format: 'json',
      sink: (line) => restWarnings.push(line),
    }),
  });
  api = account.api;
  db = sqliteTestDatabase();
  store = await openSqliteStore(db.sqlitePath ?? '');
}, 30_000);

afterAll(async () => {
  await store?.close();
  await db?.drop();
  await account?.stop();
});

function reconciler(): Reconciler {
  return new Reconciler({
    store,
    api: recordedApi(api),
    scope: SCOPE,
    settings: SETTINGS,
    logger: silentLogger('reconcile'),
  });
}

const market = (symbol: string, side: 'BUY' | 'SELL', qty: string) =>
  api.newOrder({ symbol, side, type: 'MARKET', quantity: Decimal.parse(qty) });

describe('Reconciler', () => {
  it('reads everything on a full pass, asks two questions from its cursors for an active symbol, and nothing when none is active', async () => {
    await market('BTCUSDT', 'BUY', '0.010');
    await market('ETHUSDT', 'SELL', '0.50');
    const r = reconciler();

    calls.length = 0;
    const full = await r.reconcile('start', { full: true, positions: ['BTCUSDT', 'ETHUSDT'] });
    // Income, open orders, then orders and fills of each symbol; positions came from the caller.
    expect(calls.filter((c) => c.startsWith('accountV3'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('openOrders'))).toHaveLength(1);
    // The account's first full pass reads its history: stored, and no difference (nothing to alert).
    expect(full.differences).toEqual([]);
    expect(full.backfilled).toBeGreaterThanOrEqual(4);
    expect(await store.orders(SCOPE, { symbol: 'ETHUSDT' })).toHaveLength(1);
    const btc = (await store.orders(SCOPE, { symbol: 'BTCUSDT' }))[0];
    const btcTrade = (await store.fills(SCOPE, { symbol: 'BTCUSDT' }))[0];
    expect(btc?.status).toBe('FILLED');
    // The cursor: the order after the newest (none is working), the trade after the newest.
    // The cursor: the order after the newest (none is working), the trade after the newest, and no
    // conditional order seen yet.
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('BTCUSDT')))).toEqual({
      order: Number(btc?.orderId) + 1,
      trade: Number(btcTrade?.tradeId) + 1,
      algo: null,
    });

    // A pass over one active symbol with nothing new: three requests, orders and fills by id, and
    // conditional orders by time while none was ever seen.
    calls.length = 0;
    const quiet = await r.reconcile('activity', { full: false, seen: ['BTCUSDT'] });
    expect(quiet.requests).toBe(3);
    expect(calls.slice(0, 2)).toEqual([
      `allOrders ${JSON.stringify({ symbol: 'BTCUSDT', orderId: Number(btc?.orderId) + 1, limit: 1000 })}`,
      `userTrades ${JSON.stringify({ symbol: 'BTCUSDT', fromId: Number(btcTrade?.tradeId) + 1, limit: 1000 })}`,
    ]);
    expect(calls.slice(2)).toEqual([
      `allAlgoOrders ${JSON.stringify({ symbol: 'BTCUSDT', startTime: quiet.since, limit: 1000 })}`,
    ]);
    expect(quiet.differences).toEqual([]);

    // Nothing active: no request at all.
    calls.length = 0;
    const idle = await r.reconcile('activity', { full: false, seen: [] });
    expect(idle.requests).toBe(0);
    expect(calls).toEqual([]);

    // An order the stream missed is found by the next pass over its symbol, once.
    await market('BTCUSDT', 'SELL', '0.010');
    const found = await r.reconcile('activity', { full: false, seen: ['BTCUSDT'] });
    expect(found.differences.map((d) => `${d.symbol} ${d.orders}/${d.fills}`)).toEqual(['BTCUSDT 1/1']);
    const again = await r.reconcile('activity', { full: false, seen: ['BTCUSDT'] });
    expect(again.differences).toEqual([]);
    expect(await store.orders(SCOPE, { symbol: 'BTCUSDT' })).toHaveLength(2);

    // Only the first full pass is a backfill: a later one reports what the stream missed.
    await market('ETHUSDT', 'BUY', '0.50');
    const later = await r.reconcile('hub connection', { full: true, positions: ['BTCUSDT', 'ETHUSDT'] });
    expect(later.backfilled).toBe(0);
    expect(later.differences.map((d) => `${d.symbol} ${d.orders}/${d.fills}`)).toContain('ETHUSDT 1/1');
  });

  it('keeps a working order as the cursor until it ends, then stores its final state', async () => {
    const r = reconciler();
    const ticker = JSON.parse((await api.tickerPrice({ symbol: 'SOLUSDT' })).body.toString('utf8')) as {
      price: string;
    };
    const working = await api.newOrder({
      symbol: 'SOLUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: Decimal.parse('5'),
      // Well below the market: it waits.
      price: Decimal.parse(ticker.price).mul(Decimal.parse('0.8')).rescale(2, 'down'),
    });
    await r.reconcile('start', { full: true, positions: [] });
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('SOLUSDT')))?.order).toBe(working.orderId);
    await market('SOLUSDT', 'BUY', '1');
    await r.reconcile('activity', { full: false, seen: ['SOLUSDT'] });
    // Still the working order: it may change yet.
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('SOLUSDT')))?.order).toBe(working.orderId);
    await api.cancelOrder({ symbol: 'SOLUSDT', orderId: working.orderId });
    const ended = await r.reconcile('activity', { full: false, seen: ['SOLUSDT'] });
    expect(ended.differences.map((d) => `${d.symbol} ${d.orders}/${d.fills}`)).toEqual(['SOLUSDT 1/0']);
    const latest = (await store.orders(SCOPE, { symbol: 'SOLUSDT' })).find(
      (o) => o.orderId === String(working.orderId),
    );
    expect(latest?.status).toBe('CANCELED');
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('SOLUSDT')))?.order).toBeGreaterThan(
      working.orderId,
    );
  });

  it('finds a conditional order placed and cancelled while the stream was away, and keeps a waiting one as the cursor', async () => {
    const r = reconciler();
    const ticker = JSON.parse((await api.tickerPrice({ symbol: 'ETHUSDT' })).body.toString('utf8')) as {
      price: string;
    };
    // Well below the market: none triggers.
    const triggerPrice = Decimal.parse(ticker.price).mul(Decimal.parse('0.8')).rescale(2, 'down');
    const stop = () =>
      api.newAlgoOrder({
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        quantity: Decimal.parse('0.5'),
        triggerPrice,
      });
    const gone = await stop();
    await api.cancelAlgoOrder({ algoId: gone.algoId });
    const waiting = await stop();
    // The exchange lists only the waiting one as open; the cancelled one is in the symbol's history.
    await r.reconcile('user stream reconnected', { full: true, positions: ['ETHUSDT'] });
    const states = async () =>
      (await store.algoOrders(SCOPE, { symbol: 'ETHUSDT' })).map((a) => `${a.algoId} ${a.status}`).sort();
    expect(await states()).toEqual([`${gone.algoId} CANCELED`, `${waiting.algoId} NEW`].sort());
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('ETHUSDT')))?.algo).toBe(waiting.algoId);

    // Two more ends the stream missed: the next pass over the symbol reads from the waiting one, once.
    const later = await stop();
    await api.cancelAlgoOrder({ algoId: later.algoId });
    await api.cancelAlgoOrder({ algoId: waiting.algoId });
    calls.length = 0;
    const pass = await r.reconcile('activity', { full: false, seen: ['ETHUSDT'] });
    expect(calls).toContain(
      `allAlgoOrders ${JSON.stringify({ symbol: 'ETHUSDT', algoId: waiting.algoId, limit: 1000 })}`,
    );
    expect(pass.algoOrders).toBe(2);
    expect(await states()).toEqual(
      [`${gone.algoId} CANCELED`, `${waiting.algoId} CANCELED`, `${later.algoId} CANCELED`].sort(),
    );
    expect(parseSymbolCursor(await store.cursor(r.symbolCursorName('ETHUSDT')))?.algo).toBe(later.algoId + 1);
    expect((await r.reconcile('activity', { full: false, seen: ['ETHUSDT'] })).algoOrders).toBe(0);
  });

  it('stores the income rows around one no column can hold, and refuses that one alone (counted, logged)', async () => {
    const scope: RecordScope = { mode: 'testnet', account: 'refusals' };
    const now = Date.now();
    const row = (tranId: number, over: Record<string, unknown> = {}) => ({
      symbol: 'BTCUSDT',
      incomeType: 'FUNDING_FEE',
      income: '-0.01',
      asset: 'USDT',
      info: '',
      time: now - 1000,
      tranId,
      tradeId: '',
      ...over,
    });
    // A 100-digit amount is a plain decimal the decoders accept; the store's column holds 80 characters.
    const rows = [row(1), row(2, { income: '1'.repeat(100), symbol: 'ODDUSDT' }), row(3)];
    const fakeApi = {
      income: async () => ({ body: Buffer.from(JSON.stringify(rows)) }),
    } as unknown as UsdmApi;
    const logged: Array<Record<string, unknown>> = [];
    const logger = new Logger('reconcile', {
      level: 'info',
      format: 'json',
      sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>),
    });
    const r = new Reconciler({ store, api: fakeApi, scope, settings: SETTINGS, logger });
    const read = await r.income();
    expect(read.inserted).toBe(2);
    // The refused row's symbol is not looked at: nothing of it could be stored.
    expect([...read.symbols]).toEqual(['BTCUSDT']);
    expect((await store.income(scope)).map((i) => i.tranId)).toEqual(['1', '3']);
    expect(r.refused).toBe(1);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'record refused: a column cannot hold it; not stored',
        kind: 'income',
        field: 'income',
        record: expect.objectContaining({ tranId: '2', income: '1'.repeat(100) }),
      }),
    ]);
  });
});

describe('Reconciler income paging', () => {
  it('reads on from where a read cut at the page limit stopped, not from now', async () => {
    const scope: RecordScope = { mode: 'testnet', account: 'paging' };
    const now = Date.now();
    // 60 pages of funding within the last hour, oldest first as the exchange pages them; a read takes 50.
    const all = Array.from({ length: 60_000 }, (_, i) => ({
      symbol: 'BTCUSDT',
      incomeType: 'FUNDING_FEE',
      income: '-0.01',
      asset: 'USDT',
      info: '',
      time: now - 3_599_000 + i * 50,
      tranId: i + 1,
      tradeId: '',
    }));
    const fakeApi = {
      income: async (q: { startTime: number; endTime: number; limit: number; page: number }) => {
        const within = all.filter((r) => r.time >= q.startTime && r.time <= q.endTime);
        const page = within.slice((q.page - 1) * q.limit, q.page * q.limit);
        return { body: Buffer.from(JSON.stringify(page)) };
      },
    } as unknown as UsdmApi;
    const r = new Reconciler({ store, api: fakeApi, scope, settings: SETTINGS, logger: silentLogger() });
    const first = await r.income();
    expect(first.inserted).toBe(50_000);
    const second = await r.income();
    expect(second.inserted).toBe(10_000);
    expect((await store.income(scope)).length).toBe(60_000);
  }, 60_000);
});

describe('Reconciler conflicts', () => {
  it('counts and logs a trade id seen twice with different values, keeping the first', async () => {
    const scope: RecordScope = { mode: 'testnet', account: 'conflicts' };
    const now = Date.now();
    const trade = (id: number, commission: string, realizedPnl = '0') => ({
      symbol: 'XRPUSDT',
      id,
      orderId: 500 + id,
      side: 'BUY',
      positionSide: 'BOTH',
      price: Decimal.parse('0.5000'),
      qty: Decimal.parse('100'),
      quoteQty: Decimal.parse('50.0000'),
      realizedPnl: Decimal.parse(realizedPnl),
      commission: Decimal.parse(commission),
      commissionAsset: 'USDT',
      buyer: true,
      maker: false,
      time: now - 1000,
    });
    // The stream stored trade 7 with one commission; the exchange reports another. Trade 8 comes
    // twice in the exchange's pages, with two realized PnLs. Trade 9 is new.
    await store.write({
      fills: [
        {
          ...scope,
          symbol: 'XRPUSDT',
          tradeId: '7',
          orderId: '507',
          clientOrderId: null,
          side: 'BUY',
          positionSide: 'BOTH',
          price: '0.5000',
          qty: '100',
          quoteQty: '50',
          realizedPnl: '0',
          commission: '0.01',
          commissionAsset: 'USDT',
          maker: false,
          time: now - 1000,
          source: 'stream',
        },
      ],
    });
    const fakeApi = {
      allOrders: async () => [],
      allAlgoOrders: async () => [],
      userTrades: async () => [trade(7, '0.02'), trade(8, '0.01'), trade(8, '0.01', '1.5'), trade(9, '0.01')],
    } as unknown as UsdmApi;
    const logged: Array<Record<string, unknown>> = [];
    const logger = new Logger('reconcile', {
      level: 'info',
      format: 'json',
      sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>),
    });
    const r = new Reconciler({ store, api: fakeApi, scope, settings: SETTINGS, logger });
    const report = await r.reconcile('activity', { full: false, seen: ['XRPUSDT'] });
    expect(report.differences.map((d) => `${d.symbol} ${d.fills}`)).toEqual(['XRPUSDT 2']);
    expect(r.conflicts).toBe(2);
    expect(logged.filter((l) => l.msg === 'fill differs from the exchange; the stored one is kept')).toEqual([
      expect.objectContaining({ level: 'error', tradeId: '7' }),
      expect.objectContaining({ level: 'error', tradeId: '8' }),
    ]);
    expect((await store.fills(scope)).map((f) => [f.tradeId, f.commission, f.realizedPnl])).toEqual([
      ['7', '0.01', '0'],
      ['8', '0.01', '0'],
      ['9', '0.01', '0'],
    ]);
  });
});

describe('nextCursor', () => {
  const order = (orderId: number, status: string) => ({ orderId, status }) as OrderRecord;
  const trade = (id: number) => ({ id }) as TradeRecord;
  const algo = (algoId: number, algoStatus: string) => ({ algoId, algoStatus }) as AlgoOrderRecord;

  it('starts orders at the oldest working one, else after the newest, and trades after the newest', () => {
    expect(
      nextCursor(
        undefined,
        undefined,
        [order(5, 'FILLED'), order(7, 'NEW'), order(9, 'CANCELED')],
        [trade(3), trade(4)],
      ),
    ).toEqual({ order: 7, trade: 5, algo: null });
    expect(nextCursor(undefined, undefined, [order(5, 'FILLED'), order(9, 'EXPIRED')], [])).toEqual({
      order: 10,
      trade: null,
      algo: null,
    });
    // Conditional orders as orders: from the oldest that may still change (TRIGGERED becomes FINISHED).
    expect(
      nextCursor(undefined, undefined, [], [], undefined, [algo(4, 'CANCELED'), algo(6, 'TRIGGERED')]),
    ).toEqual({ order: null, trade: null, algo: 6 });
    expect(nextCursor(undefined, undefined, [], [], 3, [algo(4, 'CANCELED'), algo(6, 'FINISHED')])).toEqual({
      order: null,
      trade: null,
      algo: 7,
    });
  });

  it('keeps what it had when REST returned nothing new, and stays unset until something was seen', () => {
    expect(nextCursor({ order: 12, trade: 40, algo: 8 }, 12, [], [], 8)).toEqual({
      order: 12,
      trade: 40,
      algo: 8,
    });
    expect(nextCursor(undefined, undefined, [], [])).toBeUndefined();
    // Fills without their orders (an order older than the time window): orders are read by time again.
    expect(nextCursor(undefined, undefined, [], [trade(8)])).toEqual({ order: null, trade: 9, algo: null });
  });

  it('reads a stored cursor back, and treats anything else as none', () => {
    // A cursor stored before conditional orders were read per symbol: they are read by time.
    expect(parseSymbolCursor('{"order":3,"trade":null}')).toEqual({ order: 3, trade: null, algo: null });
    expect(parseSymbolCursor('{"order":3,"trade":4,"algo":5}')).toEqual({ order: 3, trade: 4, algo: 5 });
    expect(parseSymbolCursor('not json')).toBeUndefined();
    expect(parseSymbolCursor(undefined)).toBeUndefined();
    expect(parseSymbolCursor('{"order":-1,"trade":"x"}')).toEqual({ order: null, trade: null, algo: null });
  });
});

describe('Reconciler and a symbol the exchange does not list', () => {
  it('skips it, warns naming it, and reconciles the symbols after it', async () => {
    // A delisted symbol keeps its records, so it stays among the active ones for days; sorted
    // first, it used to fail every pass before any other symbol was read.
    await market('XRPUSDT', 'BUY', '10');
    const warnings: string[] = [];
    const r = new Reconciler({
      store,
      api: recordedApi(api),
      scope: SCOPE,
      settings: SETTINGS,
      logger: new Logger('reconcile', {
        level: 'warn',
        format: 'json',
        sink: (line) => warnings.push(line),
      }),
    });
    const report = await r.reconcile('fills', { full: false, seen: ['AAADELISTEDUSDT', 'XRPUSDT'] });
    expect(report.unlisted).toEqual(['AAADELISTEDUSDT']);
    expect(report.differences.map((d) => d.symbol)).toEqual(['XRPUSDT']);
    expect((await store.fills(SCOPE, { symbol: 'XRPUSDT' })).length).toBeGreaterThan(0);
    expect(r.unlistedSkips).toBe(1);
    // The refusal is the reconciler's answer: the REST client does not warn about it as a failure.
    expect(restWarnings.filter((l) => l.includes('"code":-1121'))).toEqual([]);
    expect(warnings.map((l) => JSON.parse(l) as { msg: string; symbols?: string })).toEqual([
      expect.objectContaining({
        msg: 'symbols the exchange does not list (delisted?) skipped; their records stay as stored',
        symbols: 'AAADELISTEDUSDT',
      }),
    ]);
    // The next pass does not ask about it again.
    calls.length = 0;
    const again = await r.reconcile('fills', { full: false, seen: ['AAADELISTEDUSDT', 'XRPUSDT'] });
    expect(again.unlisted).toEqual(['AAADELISTEDUSDT']);
    expect(calls.filter((c) => c.includes('AAADELISTEDUSDT'))).toEqual([]);
    expect(calls.filter((c) => c.includes('XRPUSDT')).length).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(r.unlistedSkips).toBe(2);
  });
});
