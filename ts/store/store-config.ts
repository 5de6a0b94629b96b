// The `store` section: where records are kept (a SQLite file by default, MySQL/MariaDB when a URL is set).
import { z } from 'zod';
import { expecting, integer, type SectionSettings, section, text } from '../config/config-fields.js';

/** A `mysql://` or `mariadb://` URL without a password (the password is a secret: `TRIBUTARY_STORE_URL`). */
function databaseUrl() {
  const error = expecting('a URL such as "mysql://user@127.0.0.1:3306/tributary"');
  return z
    .string({ error })
    .regex(/^(mysql|mariadb):\/\/[^/]+\/[A-Za-z0-9_$]{1,64}$/, { error })
    .refine((value) => !/^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(value), {
      error:
        'must not carry a password: put the whole URL in TRIBUTARY_STORE_URL (environment or secrets file)',
    });
}

/** The `store` section. */
export const storeSection = section({
  sqlitePath: text()
    .default('.tributary/records.sqlite')
    .describe(
      'The SQLite records file (used unless url or TRIBUTARY_STORE_URL names a MySQL/MariaDB database)',
    ),
  url: databaseUrl()
    .optional()
    .describe(
      'MySQL/MariaDB database for the records ("mysql://user@host:3306/db", created when missing); a password goes in TRIBUTARY_STORE_URL instead',
    ),
  account: text().default('main').describe('Name the records of this exchange account are kept under'),
  flushMs: integer(10, 60_000)
    .default(200)
    .describe('Buffered records are written at least this often, in one transaction, ms'),
  maxBatch: integer(1, 100_000).default(2000).describe('A buffer of this many records is written at once'),
});

export type StoreSettings = SectionSettings<typeof storeSection>;
