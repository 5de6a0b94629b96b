// The SQLite driver (better-sqlite3): one file, write-ahead log, every commit synced before it is acknowledged.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SqlDriver, SqlRow, SqlTransaction, SqlValue } from './sql-driver.js';

type Statement = Database.Statement<unknown[], SqlRow>;

/** Prepared statements kept per connection (the store's statements are few and repeated). */
const STATEMENT_CACHE = 256;

/**
 * A SQLite database file. better-sqlite3 is synchronous: a statement runs on the calling thread,
 * so the store keeps each transaction short and batched (a flush of hundreds of rows is one
 * transaction of a few milliseconds). `journal_mode=WAL` lets readers (the dashboard) read while a
 * writer writes; `synchronous=FULL` syncs the log on every commit, so a committed (acknowledged)
 * batch survives a `kill -9` and a power cut; `busy_timeout` waits for another process's write.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  /** SQLite's default limit is 32,766 host parameters; stay well under it. */
  readonly maxParams = 30_000;
  readonly where: string;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Statement>();
  #queue: Promise<unknown> = Promise.resolve();

  /** Opens (creating it and its folder) the database at `path` (`:memory:` for a private one). */
  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.where = path;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#statement(sql).run(...params).changes;
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.#statement(sql).all(...params);
  }

  /**
   * `BEGIN IMMEDIATE` takes the write lock at the start, so a transaction that reads then writes
   * (the orders' latest state) cannot be overtaken by another process's writer. Transactions on
   * this connection run one after another.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this);
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], SqlRow>(sql);
      if (this.#statements.size >= STATEMENT_CACHE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
