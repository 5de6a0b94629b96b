// Stage 6: records written per second into the store, the recorder's batched transactions against one autocommitted INSERT per row, on SQLite and MariaDB.

import { openMysqlStore, openSqliteStore } from '../../ts/store/open-store.js';
import { fillValues } from '../../ts/store/sql/row-mapping.js';
import { FILLS } from '../../ts/store/sql/schema.js';
import type { SqlRecordStore } from '../../ts/store/sql/sql-record-store.js';
import { insertRowsOneByOne } from '../../ts/store/sql/sql-statements.js';
import type { FillRecord } from '../../ts/store/store-records.js';
import {
  mariadbReachable,
  mariadbTestDatabase,
  sqliteTestDatabase,
  type TestDatabase,
} from '../../ts/store/testing/test-databases.js';
import type { Measure } from '../case.js';

/** Records per transaction, as the recorder's writer flushes them under load (store.maxBatch bounds it). */
const BATCH = 500;

function fills(count: number, from: number): FillRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    mode: 'live',
    account: 'bench',
    symbol: i % 2 === 0 ? 'BTCUSDT' : 'ETHUSDT',
    tradeId: String(from + i),
    orderId: String(4_000_000_000 + from + i),
    clientOrderId: `bench-${from + i}`,
    side: i % 3 === 0 ? 'SELL' : 'BUY',
    positionSide: 'BOTH',
    price: '80012.30',
    qty: '0.015',
    quoteQty: '1200.18450',
    realizedPnl: '-0.01350000',
    commission: '0.48007380',
    commissionAsset: 'USDT',
    maker: i % 2 === 0,
    time: 1_796_000_000_000 + from + i,
    source: 'stream',
  }));
}

async function rate(count: number, write: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await write();
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function measure(name: string, db: TestDatabase, quick: boolean): Promise<Measure> {
  const open = (): Promise<SqlRecordStore> =>
    db.kind === 'sqlite' ? openSqliteStore(db.sqlitePath ?? '') : openMysqlStore(db.url ?? '');
  const store = await open();
  try {
    const batched = quick ? 5_000 : 20_000;
    const single = quick ? 300 : 1_000;
    const rows = fills(batched, 1);
    const ours = await rate(batched, async () => {
      for (let at = 0; at < rows.length; at += BATCH)
        await store.write({ fills: rows.slice(at, at + BATCH) });
    });
    const now = Date.now();
    const one = fills(single, 10_000_000).map((f) => fillValues(f, now));
    const baseline = await rate(single, async () => {
      // Autocommit: each statement is its own transaction, as a recorder without batching writes.
      await insertRowsOneByOne(store.driver, store.driver.dialect, FILLS, one, { kind: 'keep' });
    });
    const stored = (await store.fills({ mode: 'live', account: 'bench' })).length;
    if (stored !== batched + single)
      throw new Error(`${name}: ${stored} fills stored, wrote ${batched + single}`);
    return {
      name: `storage/${name} fills written (${BATCH} a transaction vs a statement a row)`,
      unit: 'msg/s',
      ours,
      baseline,
    };
  } finally {
    await store.close();
    await db.drop();
  }
}

/** Records per second written on SQLite and (when reachable) MariaDB; the baseline is one autocommitted INSERT per row. */
export async function storageMeasures(quick: boolean): Promise<Measure[]> {
  const out = [await measure('sqlite', sqliteTestDatabase(), quick)];
  if (await mariadbReachable()) out.push(await measure('mariadb', mariadbTestDatabase(), quick));
  else process.stderr.write('bench: MariaDB is not reachable on 127.0.0.1:3306: storage/mariadb skipped\n');
  return out;
}
