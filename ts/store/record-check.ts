// Checks records against the records tables' column definitions, so one that no column can hold is refused alone, the same way on every database.
import { Decimal } from '../exact/decimal.js';
import type { LogFields, LogValue } from '../log/logger.js';
import {
  alertValues,
  algoOrderValues,
  balanceValues,
  equityValues,
  fillValues,
  incomeValues,
  klineValues,
  orderStateKey,
  orderValues,
  peerValues,
  positionValues,
  symbolValues,
} from './sql/row-mapping.js';
import * as T from './sql/schema.js';
import type { SqlValue } from './sql/sql-driver.js';
import type { RecordBatch } from './store-records.js';

/** A kind of record a batch carries, or a cursor. */
export type RecordKind = keyof RecordBatch | 'cursor';

/**
 * A record no column of its table can hold (too long, not a decimal, not a safe integer, a time
 * outside {@link T.PLAUSIBLE_TIME_MS}, missing). Refused before it reaches a database: MySQL in
 * strict mode would fail the whole transaction it is in, and SQLite would store what MySQL refuses,
 * so the two would differ.
 */
export class RecordRefusedError extends Error {
  override readonly name: string = 'RecordRefusedError';
  constructor(
    readonly kind: RecordKind,
    /** The column (as the schema names it) that cannot hold the record's value. */
    readonly field: string,
    readonly reason: string,
    readonly record: unknown,
  ) {
    super(`${kind} record refused: ${field} ${reason}`);
  }
}

/**
 * A record whose time is an integer but no plausible Unix time in ms (most likely µs or seconds
 * written as ms): stored, it would be a date thousands of years away in every daily row and chart.
 */
export class RecordTimeRefusedError extends RecordRefusedError {
  override readonly name: string = 'RecordTimeRefusedError';
  constructor(
    kind: RecordKind,
    field: string,
    /** The time as the record gave it. */
    readonly value: number,
    record: unknown,
  ) {
    super(kind, field, timeProblem(value) ?? 'is not a plausible time', record);
  }
}

/** The records of a batch that fit, and those refused. */
export interface ScreenedBatch {
  readonly batch: RecordBatch;
  readonly cursors: Readonly<Record<string, string>>;
  readonly refused: readonly RecordRefusedError[];
}

// `recorded_at` is the store's own clock when it writes (an `int` column, never a record's `time`):
// any safe integer stands for it here.
const NOW = 0;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Row<K extends keyof RecordBatch> = NonNullable<RecordBatch[K]>[number];

/** A kind's table, and its record's values in that table's column order. */
interface Shape<R> {
  readonly table: T.TableDef;
  values(record: R): SqlValue[];
}

/**
 * Each kind's table and its row, spelled by the same functions the store writes with. An order
 * state also goes to `orders` with its state key (checked after its row, which it is computed from).
 */
const SHAPES: { readonly [K in keyof RecordBatch]-?: Shape<Row<K>> } = {
  orderUpdates: { table: T.ORDER_UPDATES, values: (o) => orderValues(o, NOW) },
  algoOrderUpdates: { table: T.ALGO_ORDER_UPDATES, values: (a) => algoOrderValues(a, NOW) },
  fills: { table: T.FILLS, values: (f) => fillValues(f, NOW) },
  income: { table: T.INCOME, values: (i) => incomeValues(i, NOW) },
  positions: { table: T.POSITION_SNAPSHOTS, values: positionValues },
  balances: { table: T.BALANCE_SNAPSHOTS, values: balanceValues },
  equity: { table: T.EQUITY, values: equityValues },
  klines: { table: T.KLINES, values: klineValues },
  symbols: { table: T.SYMBOLS, values: symbolValues },
  alerts: { table: T.ALERTS, values: alertValues },
  peers: { table: T.PEER_STATUS, values: peerValues },
};

const STATE_KEY = column(T.ORDERS, 'state_key');
const CURSOR_NAME = column(T.CURSORS, 'name');
const CURSOR_VALUE = column(T.CURSORS, 'value');

function column(table: T.TableDef, name: string): T.ColumnDef {
  const found = table.columns.find((c) => c.name === name);
  if (found === undefined) throw new Error(`schema: table ${table.name} has no column ${name}`);
  return found;
}

/** Characters as MySQL counts them (code points); `.length` counts UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'bigint' ? `${value}n` : String(value);
}

/** `2000-01-01` for a Unix ms time. */
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Why `ms` is no plausible Unix time in ms ({@link T.PLAUSIBLE_TIME_MS}), with the unit it was
 * probably written in, or undefined when it is one.
 */
export function timeProblem(ms: number): string | undefined {
  const { from, below } = T.PLAUSIBLE_TIME_MS;
  const plausible = (t: number) => t >= from && t < below;
  if (plausible(ms)) return undefined;
  const unit = plausible(ms / 1000)
    ? ' (microseconds?)'
    : plausible(ms / 1_000_000)
      ? ' (nanoseconds?)'
      : plausible(ms * 1000)
        ? ' (seconds?)'
        : '';
  return `is ${ms}, not a Unix time in ms from ${isoDay(from)} to before ${isoDay(below)}${unit}`;
}

/** Why an integer column cannot hold `value` (not a number, not safe, beyond 64 bits), or undefined. */
function intProblem(value: unknown): string | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) ? undefined : `is ${describe(value)}, not a safe integer`;
  if (typeof value === 'bigint')
    return value >= INT64_MIN && value <= INT64_MAX ? undefined : `is ${value}n, beyond a 64-bit integer`;
  return `is ${typeof value} ${describe(value)}, not an integer`;
}

/** Why `column` cannot hold `value`, or undefined when it can. */
export function columnProblem(column: T.ColumnDef, value: unknown): string | undefined {
  if (value === null) return column.nullable === true ? undefined : 'is missing (the column is NOT NULL)';
  if (value === undefined) return 'is missing';
  const L = T.COLUMN_LIMITS;
  switch (column.kind) {
    case 'key':
    case 'dec': {
      if (typeof value !== 'string') return `is ${typeof value} ${describe(value)}, not text`;
      const max = column.kind === 'key' ? L.keyChars : L.decChars;
      // A UTF-16 length within the limit is within it in code points too: count only the long ones.
      if (value.length > max) {
        const chars = codePoints(value);
        if (chars > max) return `is ${chars} characters, more than the ${max} a ${column.kind} column holds`;
      }
      if (column.kind === 'dec' && Decimal.tryParse(value) === undefined)
        return `is ${describe(value)}, not a plain decimal number`;
      return undefined;
    }
    case 'time':
      // First what any integer column refuses (NaN, text, ...), in the same words; then the range.
      return intProblem(value) ?? timeProblem(Number(value));
    case 'int':
      return intProblem(value);
    case 'bool':
      return value === 0 || value === 1 ? undefined : `is ${describe(value)}, not a boolean`;
    case 'text': {
      if (typeof value !== 'string') return `is ${typeof value} ${describe(value)}, not text`;
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text needs counting.
      if (value.length * 3 <= L.textBytes) return undefined;
      const bytes = Buffer.byteLength(value, 'utf8');
      return bytes > L.textBytes
        ? `is ${bytes} bytes, more than the ${L.textBytes} a text column holds`
        : undefined;
    }
  }
}

function rowProblem(
  kind: RecordKind,
  table: T.TableDef,
  values: readonly unknown[],
  record: unknown,
): RecordRefusedError | undefined {
  for (const [i, col] of table.columns.entries()) {
    const value = values[i];
    const problem = columnProblem(col, value);
    if (problem === undefined) continue;
    // An integer time out of range is its own error, carrying the number (a caller may tell µs apart).
    if (col.kind === 'time' && typeof value === 'number' && intProblem(value) === undefined)
      return new RecordTimeRefusedError(kind, col.name, value, record);
    return new RecordRefusedError(kind, col.name, problem, record);
  }
  return undefined;
}

/** Why one record of `kind` cannot be stored, or undefined when every column can hold it. */
export function checkRecord<K extends keyof RecordBatch>(
  kind: K,
  record: Row<K>,
): RecordRefusedError | undefined {
  if (typeof record !== 'object' || record === null)
    return new RecordRefusedError(kind, '(record)', `is ${describe(record)}, not a record`, record);
  // TypeScript does not tie SHAPES[kind] to the row type of the same `kind`.
  const shape = SHAPES[kind] as Shape<Row<K>>;
  const refused = rowProblem(kind, shape.table, shape.values(record), record);
  if (refused !== undefined || kind !== 'orderUpdates') return refused;
  const stateKey = orderStateKey(record as Row<'orderUpdates'>);
  const problem = columnProblem(STATE_KEY, stateKey);
  return problem === undefined ? undefined : new RecordRefusedError(kind, STATE_KEY.name, problem, record);
}

/** Why a cursor cannot be stored, or undefined. */
export function checkCursor(name: string, value: string): RecordRefusedError | undefined {
  for (const [column, text] of [
    [CURSOR_NAME, name],
    [CURSOR_VALUE, value],
  ] as const) {
    const problem = columnProblem(column, text);
    if (problem !== undefined) return new RecordRefusedError('cursor', column.name, problem, { name, value });
  }
  return undefined;
}

/**
 * Splits `batch` (and its cursors) into what every column can hold and what is refused. Arrays with
 * nothing refused are passed on as they are (this runs on the caller's turn of every `add`).
 */
export function screenBatch(
  batch: RecordBatch,
  cursors: Readonly<Record<string, string>> = {},
): ScreenedBatch {
  const refused: RecordRefusedError[] = [];
  const kept: Record<string, readonly unknown[]> = {};
  for (const kind of Object.keys(SHAPES) as Array<keyof RecordBatch>) {
    const rows = batch[kind] as readonly Row<typeof kind>[] | undefined;
    if (rows === undefined) continue;
    // Copied only from the first refused record on.
    let fit: unknown[] | undefined;
    for (const [i, record] of rows.entries()) {
      const problem = checkRecord(kind, record);
      if (problem === undefined) fit?.push(record);
      else {
        refused.push(problem);
        fit ??= rows.slice(0, i);
      }
    }
    kept[kind] = fit ?? rows;
  }
  const keptCursors: Record<string, string> = {};
  for (const [name, value] of Object.entries(cursors)) {
    const problem = checkCursor(name, value);
    if (problem === undefined) keptCursors[name] = value;
    else refused.push(problem);
  }
  return { batch: kept as RecordBatch, cursors: keptCursors, refused };
}

/** A refused record for a log line: its kind, field and why (a time's value too), and the record itself to recover it by hand. */
export function refusalLogFields(error: RecordRefusedError): LogFields {
  return {
    kind: error.kind,
    field: error.field,
    reason: error.reason,
    ...(error instanceof RecordTimeRefusedError ? { value: error.value } : {}),
    record: recordForLog(error.record),
  };
}

/**
 * A record as a log field, whole (to recover it by hand). Log lines are JSON: NaN and infinities
 * would turn into null and a bigint cannot be written at all, so those are written as text.
 */
export function recordForLog(value: unknown): LogValue {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map(recordForLog);
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recordForLog(v)]));
  return String(value);
}
