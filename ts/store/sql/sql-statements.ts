// Multi-row INSERT statements spelled for SQLite or MySQL: keep-first (idempotent), replace, and latest-state-wins.
import type { TableDef } from './schema.js';
import type { SqlTransaction, SqlValue } from './sql-driver.js';

const q = (name: string): string => `\`${name}\``;

/** How a row meets an existing row with the same key. */
export type ConflictRule =
  /** The stored row stays (an idempotent record: the same fill twice is one fill). */
  | { kind: 'keep' }
  /** The new row replaces the stored one (symbols, cursors). */
  | { kind: 'replace' }
  /** The new row replaces the stored one only when its `column` is greater (latest order state). */
  | { kind: 'newer'; column: string };

function head(table: TableDef, rows: number): string {
  const cols = table.columns.map((c) => q(c.name)).join(', ');
  const one = `(${table.columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${q(table.name)} (${cols}) VALUES ${Array(rows).fill(one).join(', ')}`;
}

function conflictClause(table: TableDef, rule: ConflictRule, dialect: 'sqlite' | 'mysql'): string {
  const others = table.columns.map((c) => c.name).filter((n) => !table.key.includes(n));
  const first = table.key[0] ?? '';
  if (dialect === 'sqlite') {
    const target = `ON CONFLICT (${table.key.map(q).join(', ')})`;
    if (rule.kind === 'keep') return `${target} DO NOTHING`;
    const set = others.map((n) => `${q(n)} = excluded.${q(n)}`).join(', ');
    if (rule.kind === 'replace') return `${target} DO UPDATE SET ${set}`;
    return `${target} DO UPDATE SET ${set} WHERE excluded.${q(rule.column)} > ${q(table.name)}.${q(rule.column)}`;
  }
  if (rule.kind === 'keep') return `ON DUPLICATE KEY UPDATE ${q(first)} = ${q(first)}`;
  if (rule.kind === 'replace')
    return `ON DUPLICATE KEY UPDATE ${others.map((n) => `${q(n)} = VALUES(${q(n)})`).join(', ')}`;
  // MySQL applies the assignments left to right: the compared column is assigned last, so every
  // other one still compares against the stored value.
  const col = q(rule.column);
  const set = others
    .filter((n) => n !== rule.column)
    .map((n) => `${q(n)} = IF(VALUES(${col}) > ${col}, VALUES(${q(n)}), ${q(n)})`);
  set.push(`${col} = GREATEST(${col}, VALUES(${col}))`);
  return `ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
}

/**
 * Inserts `rows` (values in `table.columns` order) in as few statements as the parameter limit
 * allows; resolves with the rows inserted or changed (a kept duplicate counts 0).
 */
export async function insertRows(
  tx: SqlTransaction,
  dialect: 'sqlite' | 'mysql',
  maxParams: number,
  table: TableDef,
  rows: readonly SqlValue[][],
  rule: ConflictRule,
): Promise<number> {
  if (rows.length === 0) return 0;
  const perStatement = Math.max(1, Math.floor(maxParams / table.columns.length));
  const clause = conflictClause(table, rule, dialect);
  let changed = 0;
  for (let at = 0; at < rows.length; at += perStatement) {
    const chunk = rows.slice(at, at + perStatement);
    changed += await tx.run(`${head(table, chunk.length)} ${clause}`, chunk.flat());
  }
  return changed;
}

/** The same rows one statement per row (the benchmark's baseline; the store never does this). */
export async function insertRowsOneByOne(
  tx: SqlTransaction,
  dialect: 'sqlite' | 'mysql',
  table: TableDef,
  rows: readonly SqlValue[][],
  rule: ConflictRule,
): Promise<number> {
  const sql = `${head(table, 1)} ${conflictClause(table, rule, dialect)}`;
  let changed = 0;
  for (const row of rows) changed += await tx.run(sql, row);
  return changed;
}
