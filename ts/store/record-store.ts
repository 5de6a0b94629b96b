// The records store's one interface: idempotent batched writes, and the queries the recorder and the dashboard read.
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
} from './store-records.js';

/** A time window in Unix ms, both ends inclusive; absent ends are open. */
export interface TimeRange {
  readonly from?: number;
  readonly to?: number;
}

/** Selects rows of one symbol (or all) within a time window, newest `limit` (default: all) in time order. */
export interface RowQuery extends TimeRange {
  readonly symbol?: string;
  readonly limit?: number;
}

/** The latest account state the store holds. */
export interface AccountSummary {
  /** Time of the latest snapshot, or null when none was stored. */
  readonly time: number | null;
  readonly balances: readonly BalanceSnapshotRecord[];
  /** Open positions (non-zero amount) at that time. */
  readonly positions: readonly PositionSnapshotRecord[];
  readonly equity: EquityPointRecord | null;
}

/** One UTC day of the whole account (every symbol's daily row added up). */
export interface DailyTotal {
  readonly day: string;
  readonly realizedPnl: string;
  readonly commission: string;
  readonly funding: string;
  readonly netPnl: string;
  readonly volume: string;
  readonly fills: number;
  readonly roundTrips: number;
}

/** A symbol's PnL over a period (sums of its daily rows). */
export interface SymbolPnl {
  readonly symbol: string;
  readonly realizedPnl: string;
  readonly commission: string;
  readonly funding: string;
  readonly netPnl: string;
  readonly volume: string;
  readonly fills: number;
  readonly roundTrips: number;
}

/** What the store holds about one symbol's orders and fills, for reconciliation. */
export interface SymbolMarks {
  /** Order ids whose latest stored state is not final (oldest first). */
  readonly openOrderIds: readonly string[];
  /** Latest stored fill time, or null. */
  readonly lastFillTime: number | null;
}

/**
 * The records store (DESIGN.md 7): one interface, a SQLite file by default, MySQL/MariaDB when a URL
 * is configured. Writes are batches applied in one transaction with idempotent upserts on natural
 * keys (a row already stored is a duplicate, never a second row); decimals are exact strings.
 *
 * Read side (the dashboard's publisher and the recorder use these; all exact strings):
 * - {@link orders}: the latest state of every order; {@link orderUpdates}: every state change;
 * - {@link algoOrders}, {@link algoOrderUpdates}: the same for conditional (algo) orders;
 * - {@link fills}, {@link income}: fills and the income history;
 * - {@link accountSummary}: latest balances, open positions, equity;
 * - {@link equitySeries}: the equity curve;
 * - {@link dailyTotals}: daily PnL and commission of the account; {@link dailyStats}: per symbol;
 * - {@link symbolPnl}: per-symbol PnL since a day (1 d / 7 d / 30 d / all: pass the first day);
 * - {@link roundTrips}, {@link largeLosses}: round trips, and those that lost at least a threshold;
 * - {@link alerts}, {@link peerStatus}, {@link klines}, {@link symbols}.
 */
export interface RecordStore {
  /** `sqlite` or `mysql`. */
  readonly kind: 'sqlite' | 'mysql';
  /** Schema version the store is at (after migrations). */
  readonly schemaVersion: number;

  /**
   * Stores a batch atomically (all or nothing) and idempotently; cursors are set in the same
   * transaction. A batch with a record no column can hold (record-check.ts) is refused whole on
   * every database, before any statement: a `StoreError` whose `cause` is a `RecordRefusedError`
   * (an `RecordTimeRefusedError`, with the `value`, for a time that is no Unix ms: µs, seconds).
   */
  write(batch: RecordBatch, cursors?: Readonly<Record<string, string>>): Promise<WriteResult>;

  /** A reconciliation cursor set by `write`, or undefined. */
  cursor(name: string): Promise<string | undefined>;

  /**
   * Recomputes round trips and daily statistics of `scope` for `symbols` (default: every symbol
   * with fills or income) from the stored fills and income, and replaces the stored ones.
   */
  rebuildDerived(
    scope: RecordScope,
    symbols?: readonly string[],
  ): Promise<{ roundTrips: number; days: number }>;

  orders(scope: RecordScope, query?: RowQuery): Promise<OrderUpdateRecord[]>;
  orderUpdates(scope: RecordScope, query?: RowQuery & { orderId?: string }): Promise<OrderUpdateRecord[]>;
  /** The latest state of every conditional (algo) order; `open`: only those still waiting for their trigger. */
  algoOrders(scope: RecordScope, query?: RowQuery & { open?: boolean }): Promise<AlgoOrderUpdateRecord[]>;
  algoOrderUpdates(
    scope: RecordScope,
    query?: RowQuery & { algoId?: string },
  ): Promise<AlgoOrderUpdateRecord[]>;
  fills(scope: RecordScope, query?: RowQuery): Promise<FillRecord[]>;
  income(scope: RecordScope, query?: RowQuery & { incomeType?: string }): Promise<IncomeRecord[]>;
  /** Symbols with orders, fills or income in `scope` at or after `since`. */
  activeSymbols(scope: RecordScope, since: number): Promise<string[]>;
  symbolMarks(scope: RecordScope, symbol: string): Promise<SymbolMarks>;

  accountSummary(scope: RecordScope): Promise<AccountSummary>;
  equitySeries(scope: RecordScope, range?: TimeRange): Promise<EquityPointRecord[]>;
  positionSnapshots(scope: RecordScope, query?: RowQuery): Promise<PositionSnapshotRecord[]>;
  balanceSnapshots(scope: RecordScope, range?: TimeRange): Promise<BalanceSnapshotRecord[]>;

  /** Daily rows per symbol for days `fromDay..toDay` (`YYYY-MM-DD`, inclusive; absent: open). */
  dailyStats(scope: RecordScope, fromDay?: string, toDay?: string): Promise<DailyStatRecord[]>;
  /** The account's daily totals, oldest first. */
  dailyTotals(scope: RecordScope, fromDay?: string, toDay?: string): Promise<DailyTotal[]>;
  /** Each symbol's PnL from `fromDay` (inclusive; absent: all time), largest net loss first. */
  symbolPnl(scope: RecordScope, fromDay?: string): Promise<SymbolPnl[]>;
  roundTrips(scope: RecordScope, query?: RowQuery): Promise<RoundTripRecord[]>;
  /** Round trips whose net PnL is at or below `threshold` (a negative decimal), worst first. */
  largeLosses(scope: RecordScope, threshold: string, limit?: number): Promise<RoundTripRecord[]>;

  alerts(range?: TimeRange & { limit?: number }): Promise<AlertRecord[]>;
  /** Each peer's latest status. */
  peerStatus(): Promise<PeerStatusRecord[]>;
  klines(symbol: string, interval: string, range?: TimeRange): Promise<KlineRecord[]>;
  symbols(): Promise<SymbolRecord[]>;

  close(): Promise<void>;
}

/** The database's schema is newer than this code knows: refuse to run rather than misread it. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly found: number,
    readonly known: number,
    where: string,
  ) {
    super(
      `records store ${where} is at schema version ${found}, newer than this version of tributary knows (${known}); ` +
        'upgrade tributary, or point store.sqlitePath / store.url at another database',
    );
  }
}

/** A store operation failed; `operation` names what was attempted. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`records store: ${operation}: ${message}`, options);
  }
}
