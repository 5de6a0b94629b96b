// Opens the configured records store: MySQL/MariaDB when a URL is set, else the SQLite file.
import type { LoadedConfig } from '../config/load-config.js';
import type { RecordStore } from './record-store.js';
import { MysqlDriver } from './sql/mysql-driver.js';
import { SqlRecordStore } from './sql/sql-record-store.js';
import { SqliteDriver } from './sql/sqlite-driver.js';

/** A SQLite records store at `path` (created with its folder when missing), migrated. */
export function openSqliteStore(path: string): Promise<SqlRecordStore> {
  return SqlRecordStore.open(new SqliteDriver(path));
}

/** A MySQL/MariaDB records store (`mysql://user:pass@host:port/database`, created when missing), migrated. */
export async function openMysqlStore(url: string): Promise<SqlRecordStore> {
  return SqlRecordStore.open(await MysqlDriver.open(url));
}

/**
 * The store the configuration names: `TRIBUTARY_STORE_URL` (a secret), else `store.url`, else the
 * SQLite file `store.sqlitePath`. Throws `SchemaTooNewError` for a database a newer tributary made.
 */
export function openRecordStore(loaded: LoadedConfig): Promise<RecordStore> {
  const url = loaded.secrets.storeUrl ?? loaded.config.store.url;
  return url === undefined ? openSqliteStore(loaded.config.store.sqlitePath) : openMysqlStore(url);
}
