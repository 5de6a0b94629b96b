// Test databases: a fresh SQLite file, or a fresh MariaDB database on 127.0.0.1:3306 when one answers (dropped after).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

/** The MariaDB the brief's machines run (root, empty password); `TRIBUTARY_TEST_MYSQL` overrides the server part. */
export const MARIADB_SERVER = process.env.TRIBUTARY_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

/** Whether something accepts connections on the MariaDB port within a second. */
export function mariadbReachable(): Promise<boolean> {
  const url = new URL(`${MARIADB_SERVER}/x`);
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port || 3306) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A place for one test's records: `url` for MySQL, or `sqlitePath`; `drop` removes it. */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'mysql';
  readonly sqlitePath?: string;
  readonly url?: string;
  drop(): Promise<void>;
}

/** A new SQLite file in a temporary folder. */
export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-records-'));
  return {
    kind: 'sqlite',
    sqlitePath: join(dir, 'records.sqlite'),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new database `tributary_records_test_<random>` (the store creates it on open); dropped by `drop`. */
export function mariadbTestDatabase(): TestDatabase {
  const name = `tributary_records_test_${randomBytes(4).toString('hex')}`;
  return {
    kind: 'mysql',
    url: `${MARIADB_SERVER}/${name}`,
    drop: async () => {
      const connection = await mysql.createConnection({ uri: MARIADB_SERVER });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}
