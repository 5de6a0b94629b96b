// The MySQL/MariaDB driver (mysql2): a small connection pool, transactions on one pooled connection.
import mysql from 'mysql2/promise';
import type { SqlDriver, SqlRow, SqlTransaction, SqlValue } from './sql-driver.js';

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The database name of a `mysql://user:pass@host:port/database` URL. */
export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(name)) {
    throw new Error(`store.url must name a database (letters, digits, _ or $), got "${name}"`);
  }
  return name;
}

function connectionOptions(url: string): mysql.PoolOptions {
  const u = new URL(url);
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new Error(`store.url must start with mysql:// or mariadb://, got "${u.protocol}//"`);
  }
  return {
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    // affectedRows counts rows really inserted or changed, not rows merely found: the store counts
    // duplicates by it.
    flags: ['-FOUND_ROWS'],
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
    charset: 'utf8mb4',
  };
}

type Executor = Pick<mysql.Pool, 'query'> | Pick<mysql.PoolConnection, 'query'>;

async function runOn(on: Executor, sql: string, params: readonly SqlValue[]): Promise<number> {
  const [result] = await on.query(sql, params as SqlValue[]);
  return (result as mysql.ResultSetHeader).affectedRows ?? 0;
}

async function queryOn(on: Executor, sql: string, params: readonly SqlValue[]): Promise<SqlRow[]> {
  const [rows] = await on.query(sql, params as SqlValue[]);
  return rows as SqlRow[];
}

/**
 * A MySQL or MariaDB database (`store.url`). Statements go as text with client-side escaping (the
 * store's multi-row inserts differ in row count, which would fill a prepared-statement cache). The
 * database is created when missing (needs the privilege; else create it once by hand).
 */
export class MysqlDriver implements SqlDriver {
  readonly dialect = 'mysql' as const;
  /** Bounded by max_allowed_packet rather than a parameter count; kept so a statement stays a few MiB. */
  readonly maxParams = 20_000;
  readonly where: string;
  readonly #pool: mysql.Pool;
  #closed = false;

  private constructor(pool: mysql.Pool, where: string) {
    this.#pool = pool;
    this.where = where;
  }

  /** Connects (creating the database when missing) and checks the connection. */
  static async open(url: string, options: { connections?: number } = {}): Promise<MysqlDriver> {
    const base = connectionOptions(url);
    const database = databaseOf(url);
    const admin = await mysql.createConnection(base);
    try {
      await admin.query(
        `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
      );
    } finally {
      await admin.end();
    }
    const pool = mysql.createPool({
      ...base,
      database,
      connectionLimit: options.connections ?? 4,
      waitForConnections: true,
    });
    const driver = new MysqlDriver(pool, redactUrl(url));
    await driver.query('SELECT 1');
    return driver;
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return runOn(this.#pool, sql, params);
  }

  query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return queryOn(this.#pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const connection = await this.#pool.getConnection();
    try {
      await connection.beginTransaction();
      try {
        const result = await fn({
          run: (sql, params = []) => runOn(connection, sql, params),
          query: (sql, params = []) => queryOn(connection, sql, params),
        });
        await connection.commit();
        return result;
      } catch (error) {
        await connection.rollback();
        throw error;
      }
    } finally {
      connection.release();
    }
  }

  /** Ends the pool (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
