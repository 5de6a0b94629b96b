// The buffered writer: a record no column can hold costs only itself, on SQLite and on MariaDB (skipped with a message when none answers); a batch failing every write is salvaged in parts.
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../log/logger.js';
import { BufferedRecordWriter } from './buffered-writer.js';
import { openMysqlStore, openSqliteStore } from './open-store.js';
import type { RecordTimeRefusedError } from './record-check.js';
import type { RecordStore } from './record-store.js';
import { PLAUSIBLE_TIME_MS } from './sql/schema.js';
import type { SqlRecordStore } from './sql/sql-record-store.js';
import type { FillRecord, RecordBatch, RecordScope } from './store-records.js';
import { fill, income, order } from './testing/record-fixtures.js';
import {
  mariadbReachable,
  mariadbTestDatabase,
  sqliteTestDatabase,
  type TestDatabase,
} from './testing/test-databases.js';

const mariadb = await mariadbReachable();
if (!mariadb)
  console.warn(
    'MariaDB is not reachable on 127.0.0.1:3306: the MariaDB half of the buffered writer tests is SKIPPED',
  );

const LIVE: RecordScope = { mode: 'live', account: 'main' };

/** A logger whose JSON lines the test reads back. */
function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new Logger('writer', {
    level: 'debug',
    format: 'json',
    sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

const backends: Array<{ name: 'sqlite' | 'mysql'; skip: boolean; make: () => TestDatabase }> = [
  { name: 'sqlite', skip: false, make: sqliteTestDatabase },
  { name: 'mysql', skip: !mariadb, make: mariadbTestDatabase },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`BufferedRecordWriter on ${backend.name}`, () => {
    const opened: SqlRecordStore[] = [];
    const databases: TestDatabase[] = [];

    async function open(): Promise<SqlRecordStore> {
      const db = backend.make();
      databases.push(db);
      const store =
        db.kind === 'sqlite'
          ? await openSqliteStore(db.sqlitePath ?? '')
          : await openMysqlStore(db.url ?? '');
      opened.push(store);
      return store;
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      for (const d of databases.splice(0)) await d.drop();
    });

    it('refuses a record no column can hold, alone: the good orders, fills and income around it are stored', async () => {
      const store = await open();
      const { logger, lines } = capture();
      const writer = new BufferedRecordWriter(store, {
        flushMs: 5,
        maxBatch: 10_000,
        logger,
        maxAttempts: 3,
      });
      // Well-formed but absurd, as an exchange payload could carry them: a 100-digit price (a plain
      // decimal the JSON decoders accept), a 200-character client order id, a time beyond 2^53 and
      // beyond BIGINT, a NaN time.
      const hugePrice = order({ orderId: '3001', price: '1'.repeat(100) });
      const longClientId = order({ orderId: '3002', clientOrderId: 'x'.repeat(200) });
      const farTime = income({ tranId: '9901', time: 2 ** 63 });
      const nanTime = fill({ tradeId: '6001', time: Number.NaN });
      const adds = [
        writer.add({ orderUpdates: [order({ orderId: '2001' }), hugePrice, order({ orderId: '2002' })] }),
        writer.add({ fills: [fill({ tradeId: '5001' })], income: [income({ tranId: '9001' })] }),
        writer.add({ orderUpdates: [longClientId] }),
        writer.add({ fills: [fill({ tradeId: '5002' }), nanTime], income: [farTime] }),
        writer.add({ orderUpdates: [order({ orderId: '2003' })], income: [income({ tranId: '9002' })] }),
      ];
      const settled = await Promise.allSettled(adds);
      await writer.close();

      expect((await store.orders(LIVE)).map((o) => o.orderId)).toEqual(['2001', '2002', '2003']);
      expect((await store.fills(LIVE)).map((f) => f.tradeId)).toEqual(['5001', '5002']);
      expect((await store.income(LIVE)).map((i) => i.tranId)).toEqual(['9001', '9002']);
      expect(writer.stats).toMatchObject({ written: 7, refused: 4, lost: 0, pending: 0 });
      // Every add resolves; the one with a refused record names it.
      expect(settled.map((s) => s.status)).toEqual(Array(5).fill('fulfilled'));
      const first = settled[0]?.status === 'fulfilled' ? settled[0].value : undefined;
      expect(first?.refused).toEqual([
        expect.objectContaining({ name: 'RecordRefusedError', kind: 'orderUpdates', field: 'price' }),
      ]);
      expect(first?.refused[0]?.message).toMatch(/orderUpdates record refused: price is 100 characters/);

      // Logged once each, at error, with the whole record to recover it by hand.
      const refusals = lines.filter((l) => String(l.msg).startsWith('record refused'));
      expect(refusals.map((l) => [l.level, l.kind, l.field])).toEqual([
        ['error', 'orderUpdates', 'price'],
        ['error', 'orderUpdates', 'client_order_id'],
        ['error', 'fills', 'time'],
        ['error', 'income', 'time'],
      ]);
      expect(refusals[0]?.record).toMatchObject({ orderId: '3001', price: '1'.repeat(100) });
      expect(refusals[1]?.record).toMatchObject({ orderId: '3002', clientOrderId: 'x'.repeat(200) });
      expect(refusals[2]?.record).toMatchObject({ tradeId: '6001', time: 'NaN' });
      expect(refusals[3]?.record).toMatchObject({ tranId: '9901', time: 2 ** 63 });
      expect(lines.filter((l) => l.level === 'warn' || String(l.msg).includes('given up'))).toEqual([]);
    });

    it('refuses a record stamped in µs or seconds, alone, counted and logged with its field and value', async () => {
      const store = await open();
      const { logger, lines } = capture();
      const writer = new BufferedRecordWriter(store, { flushMs: 5, maxBatch: 10_000, logger });
      const base = 1_700_000_000_000;
      const micros = fill({ tradeId: '7002', time: base * 1000 });
      const seconds = { ...LIVE, time: base / 1000, walletBalance: '1', unrealizedPnl: '0', equity: '1' };
      const result = await writer.add({
        fills: [fill({ tradeId: '7001' }), micros, fill({ tradeId: '7003' })],
        orderUpdates: [order({ orderId: '8001', updateTime: base * 1000 })],
        income: [income({ tranId: '9101', time: base })],
        equity: [{ ...LIVE, time: base, walletBalance: '1', unrealizedPnl: '0', equity: '1' }, seconds],
      });
      await writer.close();

      expect((await store.fills(LIVE)).map((f) => f.tradeId)).toEqual(['7001', '7003']);
      expect(await store.orders(LIVE)).toEqual([]);
      expect((await store.income(LIVE)).map((i) => i.tranId)).toEqual(['9101']);
      expect((await store.equitySeries(LIVE)).map((e) => e.time)).toEqual([base]);
      expect(writer.stats).toMatchObject({ written: 4, refused: 3, lost: 0 });
      expect(
        result.refused.map((r) => [r.name, r.kind, r.field, (r as RecordTimeRefusedError).value]),
      ).toEqual([
        ['RecordTimeRefusedError', 'orderUpdates', 'update_time', base * 1000],
        ['RecordTimeRefusedError', 'fills', 'time', base * 1000],
        ['RecordTimeRefusedError', 'equity', 'time', base / 1000],
      ]);
      const refusals = lines.filter((l) => String(l.msg).startsWith('record refused'));
      expect(refusals.map((l) => [l.level, l.kind, l.field, l.value])).toEqual([
        ['error', 'orderUpdates', 'update_time', base * 1000],
        ['error', 'fills', 'time', base * 1000],
        ['error', 'equity', 'time', base / 1000],
      ]);
      expect(refusals[1]?.reason).toBe(
        'is 1700000000000000, not a Unix time in ms from 2000-01-01 to before 2100-01-01 (microseconds?)',
      );
      expect(refusals[2]?.reason).toMatch(/\(seconds\?\)$/);
    });

    it('stores a record at every column limit exactly as written', async () => {
      const store = await open();
      const { logger } = capture();
      const writer = new BufferedRecordWriter(store, { flushMs: 5, maxBatch: 10_000, logger });
      // 64 characters of 4 bytes (128 UTF-16 units): MySQL counts characters.
      const symbol = '😀'.repeat(64);
      // 80 characters, with the 36 fraction digits exact decimals allow.
      const price = `${'9'.repeat(43)}.${'1'.repeat(36)}`;
      // Times at both ends of the plausible range: the last ms before it ends, its first ms.
      const atLimits = order({
        symbol,
        clientOrderId: 'c'.repeat(64),
        price,
        updateTime: PLAUSIBLE_TIME_MS.below - 1,
      });
      // 65,535 bytes of UTF-8 (2 bytes a character, and one more).
      const details = `${'é'.repeat(32_767)}a`;
      const alert = {
        time: PLAUSIBLE_TIME_MS.from,
        severity: 'info' as const,
        source: 's'.repeat(64),
        kind: 'k',
        message: '',
        details,
      };
      const result = await writer.add({ orderUpdates: [atLimits], alerts: [alert] });
      await writer.close();
      expect(result.refused).toEqual([]);
      expect(await store.orders(LIVE)).toEqual([atLimits]);
      expect(await store.alerts()).toEqual([alert]);
      expect(writer.stats).toMatchObject({ written: 2, refused: 0, lost: 0 });
    });
  });
}

describe('BufferedRecordWriter salvaging a batch that fails every write', () => {
  /** A store that fails every write holding a fill with a `poison` trade id (a failure no check foresaw). */
  function poisonedStore(options: { down?: boolean } = {}) {
    const stored: FillRecord[] = [];
    let writes = 0;
    const store = {
      async write(batch: RecordBatch) {
        writes += 1;
        if (options.down === true) throw new Error('connect ECONNREFUSED');
        if ((batch.fills ?? []).some((f) => f.tradeId.startsWith('poison')))
          throw new Error('Data too long for column');
        stored.push(...(batch.fills ?? []));
        return { inserted: batch.fills?.length ?? 0, duplicates: 0 };
      },
    } as unknown as RecordStore;
    return { store, stored, writes: () => writes };
  }

  const fills = (n: number) => Array.from({ length: n }, (_, i) => fill({ tradeId: String(1000 + i) }));

  it('writes it in halves when the database answers: only the failing records are given up, each logged', async () => {
    const { store, stored, writes } = poisonedStore();
    const { logger, lines } = capture();
    const writer = new BufferedRecordWriter(store, { flushMs: 5, maxBatch: 10_000, logger, maxAttempts: 2 });
    const good = fills(100);
    const done = writer.add({
      fills: [
        ...good.slice(0, 30),
        fill({ tradeId: 'poison-1' }),
        ...good.slice(30),
        fill({ tradeId: 'poison-2' }),
      ],
    });
    await expect(done).rejects.toThrow(/2 of 102 records given up after repeated write failures/);
    await writer.close();
    expect(stored.map((f) => f.tradeId).sort()).toEqual(good.map((f) => f.tradeId).sort());
    expect(writer.stats).toMatchObject({ written: 100, lost: 2, pending: 0 });
    // Two failures, the probe, then at most two writes per halving for each poisoned record.
    expect(writes()).toBeLessThanOrEqual(2 + 1 + 2 * 2 * Math.ceil(Math.log2(102)));
    const givenUp = lines.filter((l) => l.msg === 'records given up after repeated write failures');
    expect(givenUp.map((l) => [l.level, l.records, (l.record as FillRecord | undefined)?.tradeId])).toEqual(
      expect.arrayContaining([
        ['error', 1, 'poison-1'],
        ['error', 1, 'poison-2'],
      ]),
    );
    expect(givenUp).toHaveLength(2);
  });

  it('gives the whole batch up when the database does not answer, after one more try', async () => {
    const { store, writes } = poisonedStore({ down: true });
    const { logger, lines } = capture();
    const writer = new BufferedRecordWriter(store, { flushMs: 5, maxBatch: 10_000, logger, maxAttempts: 3 });
    const done = writer.add({ fills: fills(50) });
    await expect(done).rejects.toThrow(/50 of 50 records given up/);
    await writer.close();
    expect(writes()).toBe(3 + 1);
    expect(writer.stats).toMatchObject({ written: 0, lost: 50, failures: 4 });
    expect(lines.filter((l) => l.msg === 'records given up after repeated write failures')).toEqual([
      expect.objectContaining({ level: 'error', records: 50 }),
    ]);
  });
});
