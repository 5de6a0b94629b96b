// What the SQL records store needs from a database connection: statements, queries, transactions.

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | bigint | null;

/** One row as the driver returns it (column name → value). */
export type SqlRow = Record<string, unknown>;

/** Statements inside one transaction. */
export interface SqlTransaction {
  /** Runs a statement; resolves with the number of rows it inserted, changed or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
}

/**
 * A database the store writes through. The two implementations differ only in SQL spelling for
 * upserts (`dialect`) and types; both quote identifiers with backticks (SQLite accepts them too).
 */
export interface SqlDriver extends SqlTransaction {
  readonly dialect: 'sqlite' | 'mysql';
  /** Where the data lives, for messages (a file path, or the URL without its password). */
  readonly where: string;
  /** Most `?` placeholders one statement may carry. */
  readonly maxParams: number;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
