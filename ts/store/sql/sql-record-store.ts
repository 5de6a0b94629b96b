// The records store on a SQL database (SQLite or MySQL through a SqlDriver): batched idempotent writes and the read side.
import { Decimal } from '../../exact/decimal.js';
import { TERMINAL_ALGO_STATUSES, TERMINAL_ORDER_STATUSES } from '../../exchange/usdm-decoders.js';
import { screenBatch } from '../record-check.js';
import type {
  AccountSummary,
  DailyTotal,
  RecordStore,
  RowQuery,
  SymbolMarks,
  SymbolPnl,
  TimeRange,
} from '../record-store.js';
import { StoreError } from '../record-store.js';
import { computeDailyStats, computeRoundTrips } from '../round-trips.js';
import type {
  AlertRecord,
  AlgoOrderUpdateRecord,
  BalanceSnapshotRecord,
  DailyStatRecord,
  EquityPointRecord,
  FillRecord,
  IncomeRecord,
  KlineRecord,
  OrderUpdateRecord,
  PeerStatusRecord,
  PositionSnapshotRecord,
  RecordBatch,
  RecordScope,
  RoundTripRecord,
  SymbolRecord,
  WriteResult,
} from '../store-records.js';
import { migrate } from './migrations.js';
import {
  alertFromRow,
  alertValues,
  algoOrderFromRow,
  algoOrderStateKey,
  algoOrderValues,
  balanceFromRow,
  balanceValues,
  dailyFromRow,
  dailyValues,
  equityFromRow,
  equityValues,
  fillFromRow,
  fillValues,
  incomeFromRow,
  incomeValues,
  klineFromRow,
  klineValues,
  orderFromRow,
  orderStateKey,
  orderValues,
  peerFromRow,
  peerValues,
  positionFromRow,
  positionValues,
  roundTripFromRow,
  roundTripValues,
  symbolFromRow,
  symbolValues,
} from './row-mapping.js';
import * as T from './schema.js';
import type { SqlDriver, SqlRow, SqlTransaction, SqlValue } from './sql-driver.js';
import { type ConflictRule, insertRows } from './sql-statements.js';

/** WHERE clauses and their parameters, built up one condition at a time. */
class Where {
  readonly parts: string[] = [];
  readonly params: SqlValue[] = [];

  constructor(scope?: RecordScope) {
    if (scope !== undefined) this.add('`mode` = ? AND `account` = ?', scope.mode, scope.account);
  }

  add(sql: string, ...params: SqlValue[]): this {
    this.parts.push(sql);
    this.params.push(...params);
    return this;
  }

  range(column: string, range: TimeRange | undefined): this {
    if (range?.from !== undefined) this.add(`\`${column}\` >= ?`, range.from);
    if (range?.to !== undefined) this.add(`\`${column}\` <= ?`, range.to);
    return this;
  }

  toString(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}

const sum = (values: Iterable<string>): string => {
  let total = Decimal.ZERO;
  for (const v of values) total = total.add(Decimal.parse(v));
  return total.toString();
};

/**
 * `RecordStore` over a `SqlDriver`. Every write is one transaction of multi-row inserts (as many
 * rows per statement as the driver's parameter limit allows); the `orders` table keeps each
 * order's latest state by an ordered state key, decided inside the database so stream and REST
 * rows may arrive in any order. Open it with `openSqlRecordStore` (it migrates first).
 */
export class SqlRecordStore implements RecordStore {
  readonly kind: 'sqlite' | 'mysql';
  readonly #db: SqlDriver;
  #version: number;

  private constructor(db: SqlDriver, version: number) {
    this.#db = db;
    this.kind = db.dialect;
    this.#version = version;
  }

  /** Migrates `db` to the newest schema (refusing a newer one) and returns the store over it. */
  static async open(db: SqlDriver): Promise<SqlRecordStore> {
    try {
      return new SqlRecordStore(db, await migrate(db));
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  get schemaVersion(): number {
    return this.#version;
  }

  /** The driver (benchmarks compare statement shapes on it). */
  get driver(): SqlDriver {
    return this.#db;
  }

  async write(batch: RecordBatch, cursors: Readonly<Record<string, string>> = {}): Promise<WriteResult> {
    // The buffered writer's checks, so a record MySQL cannot hold is refused by SQLite too, before
    // the transaction. The batch stays all or nothing: callers that want the rest stored screen it
    // first, as the writer and the reconciler do.
    const refused = screenBatch(batch, cursors).refused[0];
    if (refused !== undefined) throw new StoreError('write', refused.message, { cause: refused });
    const now = Date.now();
    try {
      return await this.#db.transaction(async (tx) => {
        let inserted = 0;
        let total = 0;
        const put = async (table: T.TableDef, rows: SqlValue[][], rule: ConflictRule = { kind: 'keep' }) => {
          total += rows.length;
          inserted += await insertRows(tx, this.#db.dialect, this.#db.maxParams, table, rows, rule);
        };
        const updates = batch.orderUpdates ?? [];
        await put(
          T.ORDER_UPDATES,
          updates.map((o) => orderValues(o, now)),
        );
        await insertRows(
          tx,
          this.#db.dialect,
          this.#db.maxParams,
          T.ORDERS,
          updates.map((o) => [...orderValues(o, now), orderStateKey(o)]),
          { kind: 'newer', column: 'state_key' },
        );
        const algoUpdates = batch.algoOrderUpdates ?? [];
        await put(
          T.ALGO_ORDER_UPDATES,
          algoUpdates.map((a) => algoOrderValues(a, now)),
        );
        await insertRows(
          tx,
          this.#db.dialect,
          this.#db.maxParams,
          T.ALGO_ORDERS,
          algoUpdates.map((a) => [...algoOrderValues(a, now), algoOrderStateKey(a)]),
          { kind: 'newer', column: 'state_key' },
        );
        await put(
          T.FILLS,
          (batch.fills ?? []).map((f) => fillValues(f, now)),
        );
        await put(
          T.INCOME,
          (batch.income ?? []).map((i) => incomeValues(i, now)),
        );
        await put(T.POSITION_SNAPSHOTS, (batch.positions ?? []).map(positionValues));
        await put(T.BALANCE_SNAPSHOTS, (batch.balances ?? []).map(balanceValues));
        await put(T.EQUITY, (batch.equity ?? []).map(equityValues));
        await put(T.KLINES, (batch.klines ?? []).map(klineValues));
        await put(T.ALERTS, (batch.alerts ?? []).map(alertValues));
        await put(T.PEER_STATUS, (batch.peers ?? []).map(peerValues));
        const symbols = batch.symbols ?? [];
        await insertRows(tx, this.#db.dialect, this.#db.maxParams, T.SYMBOLS, symbols.map(symbolValues), {
          kind: 'replace',
        });
        const cursorRows = Object.entries(cursors).map(([name, value]) => [name, value, now]);
        await insertRows(tx, this.#db.dialect, this.#db.maxParams, T.CURSORS, cursorRows, {
          kind: 'replace',
        });
        return { inserted, duplicates: total - inserted };
      });
    } catch (error) {
      throw new StoreError('write', error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  async cursor(name: string): Promise<string | undefined> {
    const rows = await this.#db.query('SELECT `value` FROM `cursors` WHERE `name` = ?', [name]);
    const value = rows[0]?.value;
    return value === undefined || value === null ? undefined : String(value);
  }

  async rebuildDerived(
    scope: RecordScope,
    symbols?: readonly string[],
  ): Promise<{ roundTrips: number; days: number }> {
    const chosen = symbols ?? (await this.#symbolsWithActivity(scope));
    let trips = 0;
    let days = 0;
    for (const symbol of chosen) {
      const fills = await this.fills(scope, { symbol });
      const income = await this.income(scope, { symbol, incomeType: 'FUNDING_FEE' });
      const roundTrips = computeRoundTrips(scope, fills, income);
      const daily = computeDailyStats(scope, fills, income, roundTrips);
      await this.#db.transaction(async (tx) => {
        const where = '`mode` = ? AND `account` = ? AND `symbol` = ?';
        const params = [scope.mode, scope.account, symbol];
        await tx.run(`DELETE FROM \`round_trips\` WHERE ${where}`, params);
        await tx.run(`DELETE FROM \`daily_stats\` WHERE ${where}`, params);
        const put = (table: T.TableDef, rows: SqlValue[][]) =>
          insertRows(tx, this.#db.dialect, this.#db.maxParams, table, rows, { kind: 'replace' });
        await put(T.ROUND_TRIPS, roundTrips.map(roundTripValues));
        await put(T.DAILY_STATS, daily.map(dailyValues));
      });
      trips += roundTrips.length;
      days += daily.length;
    }
    return { roundTrips: trips, days };
  }

  async #symbolsWithActivity(scope: RecordScope): Promise<string[]> {
    const rows = await this.#db.query(
      'SELECT DISTINCT `symbol` FROM `fills` WHERE `mode` = ? AND `account` = ? ' +
        "UNION SELECT DISTINCT `symbol` FROM `income` WHERE `mode` = ? AND `account` = ? AND `income_type` = 'FUNDING_FEE'",
      [scope.mode, scope.account, scope.mode, scope.account],
    );
    return rows.map((r) => String(r.symbol)).sort();
  }

  async #select<R>(
    sql: string,
    where: Where,
    order: string,
    limit: number | undefined,
    map: (row: SqlRow) => R,
  ): Promise<R[]> {
    // The newest `limit` rows, returned oldest first.
    if (limit !== undefined) {
      const desc = order.replace(/ ASC/g, ' DESC');
      const rows = await this.#db.query(
        `${sql} ${where} ORDER BY ${desc} LIMIT ${Math.floor(limit)}`,
        where.params,
      );
      return rows.reverse().map(map);
    }
    const rows = await this.#db.query(`${sql} ${where} ORDER BY ${order}`, where.params);
    return rows.map(map);
  }

  orders(scope: RecordScope, query: RowQuery = {}): Promise<OrderUpdateRecord[]> {
    const where = new Where(scope).range('update_time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    return this.#select(
      'SELECT * FROM `orders`',
      where,
      '`update_time` ASC, `symbol` ASC, `order_id` ASC',
      query.limit,
      orderFromRow,
    );
  }

  orderUpdates(
    scope: RecordScope,
    query: RowQuery & { orderId?: string } = {},
  ): Promise<OrderUpdateRecord[]> {
    const where = new Where(scope).range('update_time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    if (query.orderId !== undefined) where.add('`order_id` = ?', query.orderId);
    return this.#select(
      'SELECT * FROM `order_updates`',
      where,
      '`update_time` ASC, `symbol` ASC, `order_id` ASC, `recorded_at` ASC',
      query.limit,
      orderFromRow,
    );
  }

  algoOrders(
    scope: RecordScope,
    query: RowQuery & { open?: boolean } = {},
  ): Promise<AlgoOrderUpdateRecord[]> {
    const where = new Where(scope).range('update_time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    if (query.open === true)
      where.add(
        `\`status\` NOT IN (${TERMINAL_ALGO_STATUSES.map(() => '?').join(', ')})`,
        ...TERMINAL_ALGO_STATUSES,
      );
    return this.#select(
      'SELECT * FROM `algo_orders`',
      where,
      '`update_time` ASC, `symbol` ASC, `algo_id` ASC',
      query.limit,
      algoOrderFromRow,
    );
  }

  algoOrderUpdates(
    scope: RecordScope,
    query: RowQuery & { algoId?: string } = {},
  ): Promise<AlgoOrderUpdateRecord[]> {
    const where = new Where(scope).range('update_time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    if (query.algoId !== undefined) where.add('`algo_id` = ?', query.algoId);
    return this.#select(
      'SELECT * FROM `algo_order_updates`',
      where,
      '`update_time` ASC, `symbol` ASC, `algo_id` ASC, `recorded_at` ASC',
      query.limit,
      algoOrderFromRow,
    );
  }

  fills(scope: RecordScope, query: RowQuery = {}): Promise<FillRecord[]> {
    const where = new Where(scope).range('time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    return this.#select(
      'SELECT * FROM `fills`',
      where,
      '`time` ASC, `symbol` ASC, `trade_id` ASC',
      query.limit,
      fillFromRow,
    );
  }

  income(scope: RecordScope, query: RowQuery & { incomeType?: string } = {}): Promise<IncomeRecord[]> {
    const where = new Where(scope).range('time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    if (query.incomeType !== undefined) where.add('`income_type` = ?', query.incomeType);
    return this.#select(
      'SELECT * FROM `income`',
      where,
      '`time` ASC, `tran_id` ASC',
      query.limit,
      incomeFromRow,
    );
  }

  async activeSymbols(scope: RecordScope, since: number): Promise<string[]> {
    const p = [scope.mode, scope.account, since];
    const rows = await this.#db.query(
      'SELECT `symbol` FROM `orders` WHERE `mode` = ? AND `account` = ? AND `update_time` >= ? ' +
        'UNION SELECT `symbol` FROM `fills` WHERE `mode` = ? AND `account` = ? AND `time` >= ? ' +
        "UNION SELECT `symbol` FROM `income` WHERE `mode` = ? AND `account` = ? AND `time` >= ? AND `symbol` <> ''",
      [...p, ...p, ...p],
    );
    return rows.map((r) => String(r.symbol)).sort();
  }

  async symbolMarks(scope: RecordScope, symbol: string): Promise<SymbolMarks> {
    const open = await this.#db.query(
      `SELECT \`order_id\` FROM \`orders\` WHERE \`mode\` = ? AND \`account\` = ? AND \`symbol\` = ? AND \`status\` NOT IN (${TERMINAL_ORDER_STATUSES.map(() => '?').join(', ')})`,
      [scope.mode, scope.account, symbol, ...TERMINAL_ORDER_STATUSES],
    );
    const last = await this.#db.query(
      'SELECT MAX(`time`) AS `t` FROM `fills` WHERE `mode` = ? AND `account` = ? AND `symbol` = ?',
      [scope.mode, scope.account, symbol],
    );
    const t = last[0]?.t;
    return {
      openOrderIds: open.map((r) => String(r.order_id)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
      lastFillTime: t === null || t === undefined ? null : Number(t),
    };
  }

  async accountSummary(scope: RecordScope): Promise<AccountSummary> {
    const latest = await this.#db.query(
      'SELECT MAX(`time`) AS `t` FROM `balance_snapshots` WHERE `mode` = ? AND `account` = ?',
      [scope.mode, scope.account],
    );
    const t = latest[0]?.t;
    const time = t === null || t === undefined ? null : Number(t);
    const equity = await this.#select(
      'SELECT * FROM `equity`',
      new Where(scope),
      '`time` ASC',
      1,
      equityFromRow,
    );
    if (time === null) return { time: null, balances: [], positions: [], equity: equity[0] ?? null };
    const at = new Where(scope).add('`time` = ?', time);
    const balances = await this.#select(
      'SELECT * FROM `balance_snapshots`',
      at,
      '`asset` ASC',
      undefined,
      balanceFromRow,
    );
    const positions = await this.#select(
      'SELECT * FROM `position_snapshots`',
      at,
      '`symbol` ASC, `position_side` ASC',
      undefined,
      positionFromRow,
    );
    return {
      time,
      balances,
      positions: positions.filter((p) => !Decimal.parse(p.amount).isZero()),
      equity: equity[0] ?? null,
    };
  }

  equitySeries(scope: RecordScope, range?: TimeRange): Promise<EquityPointRecord[]> {
    return this.#select(
      'SELECT * FROM `equity`',
      new Where(scope).range('time', range),
      '`time` ASC',
      undefined,
      equityFromRow,
    );
  }

  positionSnapshots(scope: RecordScope, query: RowQuery = {}): Promise<PositionSnapshotRecord[]> {
    const where = new Where(scope).range('time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    return this.#select(
      'SELECT * FROM `position_snapshots`',
      where,
      '`time` ASC, `symbol` ASC, `position_side` ASC',
      query.limit,
      positionFromRow,
    );
  }

  balanceSnapshots(scope: RecordScope, range?: TimeRange): Promise<BalanceSnapshotRecord[]> {
    return this.#select(
      'SELECT * FROM `balance_snapshots`',
      new Where(scope).range('time', range),
      '`time` ASC, `asset` ASC',
      undefined,
      balanceFromRow,
    );
  }

  dailyStats(scope: RecordScope, fromDay?: string, toDay?: string): Promise<DailyStatRecord[]> {
    const where = new Where(scope);
    if (fromDay !== undefined) where.add('`day` >= ?', fromDay);
    if (toDay !== undefined) where.add('`day` <= ?', toDay);
    return this.#select(
      'SELECT * FROM `daily_stats`',
      where,
      '`day` ASC, `symbol` ASC',
      undefined,
      dailyFromRow,
    );
  }

  async dailyTotals(scope: RecordScope, fromDay?: string, toDay?: string): Promise<DailyTotal[]> {
    const byDay = new Map<string, DailyStatRecord[]>();
    for (const row of await this.dailyStats(scope, fromDay, toDay)) {
      const list = byDay.get(row.day) ?? [];
      list.push(row);
      byDay.set(row.day, list);
    }
    return [...byDay].map(([day, rows]) => ({
      day,
      realizedPnl: sum(rows.map((r) => r.realizedPnl)),
      commission: sum(rows.map((r) => r.commission)),
      funding: sum(rows.map((r) => r.funding)),
      netPnl: sum(rows.map((r) => r.netPnl)),
      volume: sum(rows.map((r) => r.volume)),
      fills: rows.reduce((n, r) => n + r.fills, 0),
      roundTrips: rows.reduce((n, r) => n + r.roundTrips, 0),
    }));
  }

  async symbolPnl(scope: RecordScope, fromDay?: string): Promise<SymbolPnl[]> {
    const bySymbol = new Map<string, DailyStatRecord[]>();
    for (const row of await this.dailyStats(scope, fromDay)) {
      const list = bySymbol.get(row.symbol) ?? [];
      list.push(row);
      bySymbol.set(row.symbol, list);
    }
    return [...bySymbol]
      .map(([symbol, rows]) => ({
        symbol,
        realizedPnl: sum(rows.map((r) => r.realizedPnl)),
        commission: sum(rows.map((r) => r.commission)),
        funding: sum(rows.map((r) => r.funding)),
        netPnl: sum(rows.map((r) => r.netPnl)),
        volume: sum(rows.map((r) => r.volume)),
        fills: rows.reduce((n, r) => n + r.fills, 0),
        roundTrips: rows.reduce((n, r) => n + r.roundTrips, 0),
      }))
      .sort(
        (a, b) => Decimal.parse(a.netPnl).cmp(Decimal.parse(b.netPnl)) || a.symbol.localeCompare(b.symbol),
      );
  }

  roundTrips(scope: RecordScope, query: RowQuery = {}): Promise<RoundTripRecord[]> {
    const where = new Where(scope).range('close_time', query);
    if (query.symbol !== undefined) where.add('`symbol` = ?', query.symbol);
    return this.#select(
      'SELECT * FROM `round_trips`',
      where,
      '`close_time` ASC, `symbol` ASC, `open_time` ASC',
      query.limit,
      roundTripFromRow,
    );
  }

  async largeLosses(scope: RecordScope, threshold: string, limit = 50): Promise<RoundTripRecord[]> {
    const bar = Decimal.parse(threshold);
    const all = await this.roundTrips(scope);
    return all
      .filter((t) => Decimal.parse(t.netPnl).lte(bar))
      .sort((a, b) => Decimal.parse(a.netPnl).cmp(Decimal.parse(b.netPnl)) || a.closeTime - b.closeTime)
      .slice(0, limit);
  }

  alerts(range: TimeRange & { limit?: number } = {}): Promise<AlertRecord[]> {
    return this.#select(
      'SELECT * FROM `alerts`',
      new Where().range('time', range),
      '`time` ASC, `source` ASC, `kind` ASC',
      range.limit,
      alertFromRow,
    );
  }

  async peerStatus(): Promise<PeerStatusRecord[]> {
    const rows = await this.#db.query(
      'SELECT p.* FROM `peer_status` p JOIN (SELECT `peer`, MAX(`time`) AS `t` FROM `peer_status` GROUP BY `peer`) l ' +
        'ON p.`peer` = l.`peer` AND p.`time` = l.`t` ORDER BY p.`peer`',
    );
    return rows.map(peerFromRow);
  }

  klines(symbol: string, interval: string, range?: TimeRange): Promise<KlineRecord[]> {
    const where = new Where()
      .add('`symbol` = ? AND `bar_interval` = ?', symbol, interval)
      .range('open_time', range);
    return this.#select('SELECT * FROM `klines`', where, '`open_time` ASC', undefined, klineFromRow);
  }

  symbols(): Promise<SymbolRecord[]> {
    return this.#select('SELECT * FROM `symbols`', new Where(), '`symbol` ASC', undefined, symbolFromRow);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

/** Runs statements in one transaction on the store's driver (tests and benchmarks). */
export function inTransaction<R>(store: SqlRecordStore, fn: (tx: SqlTransaction) => Promise<R>): Promise<R> {
  return store.driver.transaction(fn);
}
