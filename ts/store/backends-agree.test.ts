// SQLite and MariaDB give the dashboard the same figures for the same realistic records (600 symbols, exact sums).
import { afterAll, describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { openMysqlStore, openSqliteStore } from './open-store.js';
import type { SqlRecordStore } from './sql/sql-record-store.js';
import type { FillRecord, IncomeRecord, RecordScope } from './store-records.js';
import { fill, income } from './testing/record-fixtures.js';
import { mariadbReachable, mariadbTestDatabase, sqliteTestDatabase } from './testing/test-databases.js';

const mariadb = await mariadbReachable();
const SCOPE: RecordScope = { mode: 'live', account: 'main' };
const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

/** A small deterministic generator. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function records(): { fills: FillRecord[]; funding: IncomeRecord[] } {
  const r = rng(7);
  const fills: FillRecord[] = [];
  const funding: IncomeRecord[] = [];
  let trade = 1;
  for (let s = 0; s < 600; s++) {
    const symbol = `S${String(s).padStart(3, '0')}USDT`;
    let t = T0 + Math.floor(r() * 20 * HOUR);
    for (let trip = 0; trip < 2; trip++) {
      const long = r() < 0.5;
      const entry = (1 + Math.floor(r() * 100000) / 1000).toFixed(3);
      const exit = (Number(entry) * (0.98 + r() * 0.04)).toFixed(3);
      const qty = (1 + Math.floor(r() * 50)).toString();
      const pnl = Decimal.parse(exit)
        .sub(Decimal.parse(entry))
        .mul(Decimal.parse(qty))
        .mul(Decimal.fromInt(long ? 1 : -1))
        .toString();
      const mk = (side: 'BUY' | 'SELL', price: string, realizedPnl: string, time: number, asset = 'USDT') =>
        fill({
          ...SCOPE,
          symbol,
          tradeId: String(trade++),
          orderId: String(trade),
          side,
          qty,
          price,
          quoteQty: Decimal.parse(price).mul(Decimal.parse(qty)).toString(),
          realizedPnl,
          commission: r() < 0.1 ? '0.00000000000000001' : '0.1',
          commissionAsset: asset,
          time,
        });
      fills.push(mk(long ? 'BUY' : 'SELL', entry, '0', t));
      t += Math.floor(r() * 30 * HOUR);
      fills.push(mk(long ? 'SELL' : 'BUY', exit, pnl, t));
      t += 60_000;
    }
    funding.push(
      income({
        ...SCOPE,
        symbol,
        incomeType: 'FUNDING_FEE',
        income: (r() - 0.5).toFixed(8),
        tranId: `${9_000_000 + s}`,
        tradeId: '',
        time: T0 + 8 * HOUR,
      }),
    );
  }
  // One busy symbol: 10,000 scalps of commission 0.1 each (exact sum: 2,000.0 over 20,000 fills).
  let t = T0 + 24 * HOUR;
  for (let i = 0; i < 10_000; i++) {
    const base = {
      ...SCOPE,
      symbol: 'BUSYUSDT',
      qty: '0.001',
      price: '100.0',
      quoteQty: '0.1',
      commission: '0.1',
    };
    fills.push(fill({ ...base, tradeId: String(trade++), side: 'BUY', realizedPnl: '0', time: t }));
    fills.push(fill({ ...base, tradeId: String(trade++), side: 'SELL', realizedPnl: '0.1', time: t + 1 }));
    t += 5;
  }
  return { fills, funding };
}

const opened: SqlRecordStore[] = [];
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const s of opened) await s.close();
  for (const d of drops) await d();
});

async function filled(kind: 'sqlite' | 'mysql'): Promise<SqlRecordStore> {
  const db = kind === 'sqlite' ? sqliteTestDatabase() : mariadbTestDatabase();
  drops.push(db.drop);
  const store =
    kind === 'sqlite' ? await openSqliteStore(db.sqlitePath ?? '') : await openMysqlStore(db.url ?? '');
  opened.push(store);
  const { fills, funding } = records();
  for (let i = 0; i < fills.length; i += 5000) await store.write({ fills: fills.slice(i, i + 5000) });
  await store.write({ income: funding });
  await store.rebuildDerived(SCOPE);
  return store;
}

describe('audit: figures at volume', () => {
  it('sums 20,000 commissions of 0.1 exactly', async () => {
    const store = await filled('sqlite');
    const busy = (await store.symbolPnl(SCOPE)).find((s) => s.symbol === 'BUSYUSDT');
    expect(busy?.commission).toBe('2000.0');
    expect(busy?.realizedPnl).toBe('1000.0');
    expect(busy?.roundTrips).toBe(10_000);
  });

  it.skipIf(!mariadb)(
    'SQLite and MariaDB agree on every dashboard query',
    async () => {
      const [a, b] = [await filled('sqlite'), await filled('mysql')];
      const read = async (s: SqlRecordStore) => ({
        daily: await s.dailyTotals(SCOPE),
        symbols1d: await s.symbolPnl(SCOPE, '2026-03-02'),
        symbolsAll: await s.symbolPnl(SCOPE),
        trips: await s.roundTrips(SCOPE, { limit: 200 }),
        losses: await s.largeLosses(SCOPE, '-5', 50),
        active: await s.activeSymbols(SCOPE, T0),
      });
      const [x, y] = [await read(a), await read(b)];
      expect(y.daily).toEqual(x.daily);
      expect(y.symbols1d).toEqual(x.symbols1d);
      expect(y.symbolsAll).toEqual(x.symbolsAll);
      expect(y.trips).toEqual(x.trips);
      expect(y.losses).toEqual(x.losses);
      expect(y.active).toEqual(x.active);
    },
    240_000,
  );
});
