// The records tables as data (columns, natural keys, indexes), spelled as CREATE TABLE for SQLite or MySQL.

/**
 * Column kinds. `dec` holds an exact decimal as text (never a float); `key` is short text that
 * takes part in keys (MySQL needs a bounded length there); `int` is a 64-bit integer; `time` is an
 * `int` holding a Unix time in ms that a record brings (checked against {@link PLAUSIBLE_TIME_MS}).
 */
export type ColumnKind = 'key' | 'dec' | 'int' | 'time' | 'bool' | 'text';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable?: boolean;
}

export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  /** The natural key: a row with the same values is the same record. */
  readonly key: readonly string[];
  readonly indexes?: ReadonlyArray<readonly string[]>;
}

/**
 * What the bounded MySQL column kinds hold (the `VARCHAR` lengths below are spelled from these;
 * `TEXT` holds 65,535 bytes by definition). SQLite would hold more, so record-check.ts refuses a
 * record beyond them on every database: a record fits both or neither, and never fails a whole
 * batch inside the database.
 */
export const COLUMN_LIMITS = {
  /** `VARCHAR(64)`: characters (code points), as MySQL counts them in utf8mb4. */
  keyChars: 64,
  /** `VARCHAR(80)`. */
  decChars: 80,
  /** `TEXT`: bytes of UTF-8, not characters. */
  textBytes: 65_535,
} as const;

/**
 * The Unix ms times a `time` column holds: from 2000-01-01 up to (not including) 2100-01-01 UTC.
 * Any safe integer fits the column, but a time in µs (1.7e15, year 55,000) or in seconds (1.7e9,
 * 20 January 1970) stored as ms would make daily rows and charts of dates nobody traded on; the
 * range holds every Binance time with centuries to spare on both sides of either mistake.
 */
export const PLAUSIBLE_TIME_MS = {
  from: Date.UTC(2000, 0, 1),
  below: Date.UTC(2100, 0, 1),
} as const;

const c = (name: string, kind: ColumnKind, nullable = false): ColumnDef => ({ name, kind, nullable });
const SCOPE = [c('mode', 'key'), c('account', 'key')];

/** Reconciliation cursors (last reconciled time per account, ...), written with the rows they cover. */
export const CURSORS: TableDef = {
  name: 'cursors',
  columns: [c('name', 'key'), c('value', 'text'), c('updated_at', 'int')],
  key: ['name'],
};

export const SYMBOLS: TableDef = {
  name: 'symbols',
  columns: [
    c('symbol', 'key'),
    c('status', 'key'),
    c('base_asset', 'key'),
    c('quote_asset', 'key'),
    c('tick_size', 'dec'),
    c('step_size', 'dec'),
    c('min_notional', 'dec', true),
    c('updated_at', 'time'),
  ],
  key: ['symbol'],
};

export const KLINES: TableDef = {
  name: 'klines',
  columns: [
    c('symbol', 'key'),
    c('bar_interval', 'key'),
    c('open_time', 'time'),
    c('close_time', 'time'),
    c('open_price', 'dec'),
    c('high_price', 'dec'),
    c('low_price', 'dec'),
    c('close_price', 'dec'),
    c('volume', 'dec'),
    c('quote_volume', 'dec'),
    c('trades', 'int'),
  ],
  key: ['symbol', 'bar_interval', 'open_time'],
};

const ORDER_COLUMNS: ColumnDef[] = [
  ...SCOPE,
  c('symbol', 'key'),
  c('order_id', 'key'),
  c('client_order_id', 'key'),
  c('side', 'key'),
  c('position_side', 'key'),
  c('order_type', 'key'),
  c('time_in_force', 'key', true),
  c('status', 'key'),
  c('execution_type', 'key', true),
  c('price', 'dec'),
  c('orig_qty', 'dec'),
  c('executed_qty', 'dec'),
  c('avg_price', 'dec', true),
  c('stop_price', 'dec', true),
  c('reduce_only', 'bool'),
  c('create_time', 'time', true),
  c('update_time', 'time'),
  c('source', 'key'),
  c('recorded_at', 'int'),
];

/** Every state change of every order. */
export const ORDER_UPDATES: TableDef = {
  name: 'order_updates',
  columns: ORDER_COLUMNS,
  key: ['mode', 'account', 'symbol', 'order_id', 'update_time', 'status', 'executed_qty'],
  indexes: [['mode', 'account', 'update_time']],
};

/** The latest state of every order (`state_key` orders states: time, then finality, then quantity). */
export const ORDERS: TableDef = {
  name: 'orders',
  columns: [...ORDER_COLUMNS, c('state_key', 'key')],
  key: ['mode', 'account', 'symbol', 'order_id'],
  indexes: [
    ['mode', 'account', 'update_time'],
    ['mode', 'account', 'client_order_id'],
  ],
};

const ALGO_ORDER_COLUMNS: ColumnDef[] = [
  ...SCOPE,
  c('symbol', 'key'),
  c('algo_id', 'key'),
  c('client_algo_id', 'key'),
  c('algo_type', 'key'),
  c('order_type', 'key'),
  c('side', 'key'),
  c('position_side', 'key'),
  c('time_in_force', 'key', true),
  c('status', 'key'),
  c('quantity', 'dec'),
  c('trigger_price', 'dec', true),
  c('price', 'dec', true),
  c('working_type', 'key', true),
  c('reduce_only', 'bool'),
  c('close_position', 'bool'),
  c('actual_order_id', 'key', true),
  c('create_time', 'time', true),
  c('update_time', 'time'),
  c('source', 'key'),
  c('recorded_at', 'int'),
];

/** Every state change of every conditional (algo) order: the stop-loss ladders' stops among them. */
export const ALGO_ORDER_UPDATES: TableDef = {
  name: 'algo_order_updates',
  columns: ALGO_ORDER_COLUMNS,
  key: ['mode', 'account', 'symbol', 'algo_id', 'update_time', 'status'],
  indexes: [['mode', 'account', 'update_time']],
};

/** The latest state of every conditional order (`state_key`: time, then how far along its status is). */
export const ALGO_ORDERS: TableDef = {
  name: 'algo_orders',
  columns: [...ALGO_ORDER_COLUMNS, c('state_key', 'key')],
  key: ['mode', 'account', 'symbol', 'algo_id'],
  indexes: [
    ['mode', 'account', 'update_time'],
    ['mode', 'account', 'status'],
  ],
};

export const FILLS: TableDef = {
  name: 'fills',
  columns: [
    ...SCOPE,
    c('symbol', 'key'),
    c('trade_id', 'key'),
    c('order_id', 'key'),
    c('client_order_id', 'key', true),
    c('side', 'key'),
    c('position_side', 'key'),
    c('price', 'dec'),
    c('qty', 'dec'),
    c('quote_qty', 'dec'),
    c('realized_pnl', 'dec'),
    c('commission', 'dec'),
    c('commission_asset', 'key'),
    c('maker', 'bool'),
    c('time', 'time'),
    c('source', 'key'),
    c('recorded_at', 'int'),
  ],
  key: ['mode', 'account', 'symbol', 'trade_id'],
  indexes: [
    ['mode', 'account', 'time'],
    ['mode', 'account', 'symbol', 'time'],
  ],
};

export const INCOME: TableDef = {
  name: 'income',
  columns: [
    ...SCOPE,
    c('income_type', 'key'),
    c('tran_id', 'key'),
    c('symbol', 'key'),
    c('income', 'dec'),
    c('asset', 'key'),
    c('info', 'text'),
    c('time', 'time'),
    c('trade_id', 'key'),
    c('recorded_at', 'int'),
  ],
  key: ['mode', 'account', 'income_type', 'tran_id'],
  indexes: [
    ['mode', 'account', 'time'],
    ['mode', 'account', 'symbol', 'time'],
  ],
};

export const POSITION_SNAPSHOTS: TableDef = {
  name: 'position_snapshots',
  columns: [
    ...SCOPE,
    c('time', 'time'),
    c('symbol', 'key'),
    c('position_side', 'key'),
    c('amount', 'dec'),
    c('entry_price', 'dec'),
    c('mark_price', 'dec', true),
    c('unrealized_pnl', 'dec'),
  ],
  key: ['mode', 'account', 'time', 'symbol', 'position_side'],
};

export const BALANCE_SNAPSHOTS: TableDef = {
  name: 'balance_snapshots',
  columns: [
    ...SCOPE,
    c('time', 'time'),
    c('asset', 'key'),
    c('wallet_balance', 'dec'),
    c('available_balance', 'dec', true),
    c('unrealized_pnl', 'dec'),
  ],
  key: ['mode', 'account', 'time', 'asset'],
};

export const EQUITY: TableDef = {
  name: 'equity',
  columns: [
    ...SCOPE,
    c('time', 'time'),
    c('wallet_balance', 'dec'),
    c('unrealized_pnl', 'dec'),
    c('equity', 'dec'),
  ],
  key: ['mode', 'account', 'time'],
};

export const DAILY_STATS: TableDef = {
  name: 'daily_stats',
  columns: [
    ...SCOPE,
    c('day', 'key'),
    c('symbol', 'key'),
    c('realized_pnl', 'dec'),
    c('commission', 'dec'),
    c('funding', 'dec'),
    c('net_pnl', 'dec'),
    c('volume', 'dec'),
    c('fills', 'int'),
    c('round_trips', 'int'),
    c('wins', 'int'),
    c('losses', 'int'),
  ],
  key: ['mode', 'account', 'day', 'symbol'],
};

export const ROUND_TRIPS: TableDef = {
  name: 'round_trips',
  columns: [
    ...SCOPE,
    c('symbol', 'key'),
    c('direction', 'key'),
    c('open_time', 'time'),
    c('close_time', 'time'),
    c('max_qty', 'dec'),
    c('entry_price', 'dec'),
    c('exit_price', 'dec'),
    c('realized_pnl', 'dec'),
    c('commission', 'dec'),
    c('funding', 'dec'),
    c('net_pnl', 'dec'),
    c('fills', 'int'),
  ],
  key: ['mode', 'account', 'symbol', 'direction', 'open_time'],
  indexes: [['mode', 'account', 'close_time']],
};

export const ALERTS: TableDef = {
  name: 'alerts',
  columns: [
    c('time', 'time'),
    c('source', 'key'),
    c('kind', 'key'),
    c('severity', 'key'),
    c('message', 'text'),
    c('details', 'text'),
  ],
  key: ['source', 'time', 'kind'],
  indexes: [['time']],
};

export const PEER_STATUS: TableDef = {
  name: 'peer_status',
  columns: [
    c('peer', 'key'),
    c('time', 'time'),
    c('peer_role', 'key'),
    c('state', 'key'),
    c('last_seen', 'time', true),
    c('details', 'text'),
  ],
  key: ['peer', 'time'],
};

/** Every table of schema version 1. */
export const TABLES_V1: readonly TableDef[] = [
  CURSORS,
  SYMBOLS,
  KLINES,
  ORDER_UPDATES,
  ORDERS,
  FILLS,
  INCOME,
  POSITION_SNAPSHOTS,
  BALANCE_SNAPSHOTS,
  EQUITY,
  DAILY_STATS,
  ROUND_TRIPS,
  ALERTS,
  PEER_STATUS,
];

/** The tables schema version 2 adds: conditional orders, which Binance keeps apart since 2025-12. */
export const TABLES_V2: readonly TableDef[] = [ALGO_ORDER_UPDATES, ALGO_ORDERS];

function columnType(kind: ColumnKind, dialect: 'sqlite' | 'mysql'): string {
  if (dialect === 'sqlite') return kind === 'int' || kind === 'time' || kind === 'bool' ? 'INTEGER' : 'TEXT';
  switch (kind) {
    case 'key':
      return `VARCHAR(${COLUMN_LIMITS.keyChars})`;
    case 'dec':
      // Exact text: a DECIMAL column would pad "0.010" to its scale and lose how it was written.
      return `VARCHAR(${COLUMN_LIMITS.decChars})`;
    case 'int':
    case 'time':
      return 'BIGINT';
    case 'bool':
      return 'TINYINT';
    case 'text':
      return 'TEXT';
  }
}

/** `CREATE TABLE` and `CREATE INDEX` statements for `table`. */
export function createTableSql(table: TableDef, dialect: 'sqlite' | 'mysql'): string[] {
  const columns = table.columns.map(
    (col) => `\`${col.name}\` ${columnType(col.kind, dialect)}${col.nullable === true ? '' : ' NOT NULL'}`,
  );
  const key = `PRIMARY KEY (${table.key.map((k) => `\`${k}\``).join(', ')})`;
  const tail = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  const statements = [
    `CREATE TABLE IF NOT EXISTS \`${table.name}\` (${[...columns, key].join(', ')})${tail}`,
  ];
  (table.indexes ?? []).forEach((index, i) => {
    const name = `${table.name}_ix${i + 1}`;
    const cols = index.map((k) => `\`${k}\``).join(', ');
    statements.push(
      dialect === 'sqlite'
        ? `CREATE INDEX IF NOT EXISTS \`${name}\` ON \`${table.name}\` (${cols})`
        : `CREATE INDEX \`${name}\` ON \`${table.name}\` (${cols})`,
    );
  });
  return statements;
}
