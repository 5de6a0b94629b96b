// Writes fills past the store's record checks, as a tributary from before a check could have stored them, for tests of code that reads such rows.
import { fillValues } from '../sql/row-mapping.js';
import { FILLS } from '../sql/schema.js';
import type { SqlRecordStore } from '../sql/sql-record-store.js';
import { insertRows } from '../sql/sql-statements.js';
import type { FillRecord } from '../store-records.js';

/**
 * Inserts `fills` as they are (a time in µs, say), which `write` now refuses: databases written
 * before the check may still hold such rows, and what reads them must cope.
 */
export async function insertUncheckedFills(
  store: SqlRecordStore,
  fills: readonly FillRecord[],
): Promise<void> {
  const db = store.driver;
  const now = Date.now();
  await insertRows(
    db,
    db.dialect,
    db.maxParams,
    FILLS,
    fills.map((f) => fillValues(f, now)),
    { kind: 'keep' },
  );
}
