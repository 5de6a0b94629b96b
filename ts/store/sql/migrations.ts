// Versioned schema migrations, applied in order at start; a database newer than the code is refused.
import { SchemaTooNewError } from '../record-store.js';
import { createTableSql, TABLES_V1, TABLES_V2 } from './schema.js';
import type { SqlDriver, SqlTransaction } from './sql-driver.js';

/** One schema step. Versions are consecutive from 1; a released step is never edited, only followed. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  statements(dialect: 'sqlite' | 'mysql'): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      'symbols, klines, orders and order updates, fills, income, snapshots, equity, daily stats, round trips, alerts, peer status, cursors',
    statements: (dialect) => TABLES_V1.flatMap((t) => createTableSql(t, dialect)),
  },
  {
    version: 2,
    description: 'conditional (algo) orders and their updates',
    statements: (dialect) => TABLES_V2.flatMap((t) => createTableSql(t, dialect)),
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const VERSION_TABLE =
  'CREATE TABLE IF NOT EXISTS `schema_migrations` (`version` INTEGER NOT NULL PRIMARY KEY, ' +
  '`description` TEXT NOT NULL, `applied_at` BIGINT NOT NULL)';

/** MySQL's "duplicate key name": an index a half-applied migration already made. */
const ER_DUP_KEYNAME = 1061;

async function currentVersion(on: SqlTransaction): Promise<number> {
  const rows = await on.query('SELECT MAX(`version`) AS `v` FROM `schema_migrations`');
  return Number(rows[0]?.v ?? 0);
}

async function apply(
  on: SqlTransaction,
  dialect: 'sqlite' | 'mysql',
  where: string,
  migrations: readonly Migration[],
): Promise<number> {
  const known = migrations.length;
  const found = await currentVersion(on);
  if (found > known) throw new SchemaTooNewError(found, known, where);
  for (const m of migrations.slice(found)) {
    for (const sql of m.statements(dialect)) {
      try {
        await on.run(sql);
      } catch (error) {
        // MySQL commits DDL at once: a rerun after a crash mid-migration meets its own indexes.
        if ((error as { errno?: number }).errno !== ER_DUP_KEYNAME) throw error;
      }
    }
    await on.run(
      'INSERT INTO `schema_migrations` (`version`, `description`, `applied_at`) VALUES (?, ?, ?)',
      [m.version, m.description, Date.now()],
    );
  }
  return known;
}

/**
 * Brings the database to the newest schema; returns the version. Two processes starting on one
 * database at once apply each step once: SQLite in one write transaction (its DDL is
 * transactional), MySQL under a named lock. Throws `SchemaTooNewError` when the database was
 * migrated by a newer tributary.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  await driver.run(VERSION_TABLE);
  if (driver.dialect === 'sqlite') {
    return driver.transaction((tx) => apply(tx, 'sqlite', driver.where, migrations));
  }
  return driver.transaction(async (tx) => {
    const [lock] = await tx.query("SELECT GET_LOCK('tributary_records_migrate', 60) AS `got`");
    if (Number(lock?.got) !== 1) throw new Error('could not take the migration lock within 60 s');
    try {
      return await apply(tx, 'mysql', driver.where, migrations);
    } finally {
      await tx.query("SELECT RELEASE_LOCK('tributary_records_migrate')");
    }
  });
}
