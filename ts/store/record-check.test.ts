// Records against the tables' column definitions: the limits come from schema.ts, just inside them passes, just beyond is refused by field.
import { describe, expect, it } from 'vitest';
import {
  checkCursor,
  checkRecord,
  columnProblem,
  RecordRefusedError,
  RecordTimeRefusedError,
  refusalLogFields,
  screenBatch,
  timeProblem,
} from './record-check.js';
import { COLUMN_LIMITS, createTableSql, FILLS, PLAUSIBLE_TIME_MS } from './sql/schema.js';
import type { OrderUpdateRecord } from './store-records.js';
import { fill, income, order } from './testing/record-fixtures.js';

const key = { name: 'k', kind: 'key' } as const;
const dec = { name: 'd', kind: 'dec' } as const;
const int = { name: 'i', kind: 'int' } as const;
const text = { name: 't', kind: 'text' } as const;
const time = { name: 'time', kind: 'time' } as const;

describe('record checks', () => {
  it('takes its limits from the schema MySQL is created with', () => {
    const mysql = createTableSql(FILLS, 'mysql')[0] ?? '';
    expect(mysql).toContain(`\`symbol\` VARCHAR(${COLUMN_LIMITS.keyChars}) NOT NULL`);
    expect(mysql).toContain(`\`price\` VARCHAR(${COLUMN_LIMITS.decChars}) NOT NULL`);
  });

  it('holds keys up to 64 characters, counted as MySQL counts them', () => {
    expect(columnProblem(key, 'a'.repeat(64))).toBeUndefined();
    expect(columnProblem(key, '😀'.repeat(64))).toBeUndefined();
    expect(columnProblem(key, 'a'.repeat(65))).toBe('is 65 characters, more than the 64 a key column holds');
    expect(columnProblem(key, '😀'.repeat(65))).toMatch(/is 65 characters/);
    expect(columnProblem(key, '')).toBeUndefined();
    expect(columnProblem(key, 42)).toBe('is number 42, not text');
  });

  it('holds decimals of plain digits up to 80 characters', () => {
    expect(columnProblem(dec, '-0.010')).toBeUndefined();
    expect(columnProblem(dec, `${'9'.repeat(40)}.${'1'.repeat(36)}`)).toBeUndefined();
    expect(columnProblem(dec, '1'.repeat(81))).toBe('is 81 characters, more than the 80 a dec column holds');
    expect(columnProblem(dec, '1e-8')).toBe('is "1e-8", not a plain decimal number');
    // More fraction digits than exact decimals (and so the round trips read back) allow.
    expect(columnProblem(dec, `0.${'1'.repeat(37)}`)).toMatch(/not a plain decimal number/);
    expect(columnProblem(dec, '')).toMatch(/not a plain decimal number/);
    expect(columnProblem(dec, 'NaN')).toMatch(/not a plain decimal number/);
  });

  it('holds safe integers only', () => {
    expect(columnProblem(int, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(columnProblem(int, -1)).toBeUndefined();
    expect(columnProblem(int, 2 ** 53)).toBe('is 9007199254740992, not a safe integer');
    expect(columnProblem(int, Number.NaN)).toBe('is NaN, not a safe integer');
    expect(columnProblem(int, Number.POSITIVE_INFINITY)).toMatch(/not a safe integer/);
    expect(columnProblem(int, 1.5)).toMatch(/not a safe integer/);
    expect(columnProblem(int, 2n ** 63n - 1n)).toBeUndefined();
    expect(columnProblem(int, 2n ** 63n)).toMatch(/beyond a 64-bit integer/);
    expect(columnProblem(int, '5')).toMatch(/not an integer/);
  });

  it('holds times in Unix ms from 2000 to before 2100 only, naming the unit a refused one was probably in', () => {
    const from = Date.UTC(2000, 0, 1);
    const below = Date.UTC(2100, 0, 1);
    expect(PLAUSIBLE_TIME_MS).toEqual({ from, below });
    expect(columnProblem(time, from)).toBeUndefined();
    expect(columnProblem(time, below - 1)).toBeUndefined();
    expect(columnProblem(time, 1_700_000_000_000)).toBeUndefined();
    expect(columnProblem(time, 1_700_000_000_000_000)).toBe(
      'is 1700000000000000, not a Unix time in ms from 2000-01-01 to before 2100-01-01 (microseconds?)',
    );
    expect(columnProblem(time, 1_700_000_000)).toMatch(
      /^is 1700000000, not a Unix time in ms .*\(seconds\?\)$/,
    );
    expect(timeProblem(1_700_000_000_000_000_000)).toMatch(/\(nanoseconds\?\)$/);
    expect(timeProblem(from - 1)).toBe(
      'is 946684799999, not a Unix time in ms from 2000-01-01 to before 2100-01-01',
    );
    expect(timeProblem(below)).toMatch(/^is 4102444800000, not a Unix time/);
    expect(columnProblem(time, 0)).toMatch(/not a Unix time/);
    expect(columnProblem(time, -1)).toMatch(/not a Unix time/);
    // What no integer column holds is worded as for any integer.
    expect(columnProblem(time, Number.NaN)).toBe('is NaN, not a safe integer');
    expect(columnProblem(time, 1.5e12 + 0.5)).toMatch(/not a safe integer/);
    expect(columnProblem(time, '1700000000000')).toMatch(/not an integer/);
    expect(columnProblem({ ...time, nullable: true }, null)).toBeUndefined();
  });

  it('refuses a record whose time is no Unix ms with a typed error naming the field and the value', () => {
    const micros = 1_700_000_000_500_000;
    const refused = checkRecord('fills', fill({ time: micros }));
    expect(refused).toBeInstanceOf(RecordTimeRefusedError);
    expect(refused).toBeInstanceOf(RecordRefusedError);
    expect(refused).toMatchObject({
      name: 'RecordTimeRefusedError',
      kind: 'fills',
      field: 'time',
      value: micros,
    });
    expect(refused?.message).toMatch(
      /^fills record refused: time is 1700000000500000, not a Unix time in ms/,
    );
    expect(refusalLogFields(refused as RecordRefusedError)).toMatchObject({ field: 'time', value: micros });
    expect(checkRecord('orderUpdates', order({ updateTime: 1_700_000_000 }))).toMatchObject({
      field: 'update_time',
      value: 1_700_000_000,
    });
    expect(checkRecord('orderUpdates', order({ createTime: null }))).toBeUndefined();
    expect(checkRecord('income', income({ time: micros }))?.field).toBe('time');
    // Not a number at all is the plain refusal, as before.
    expect(checkRecord('fills', fill({ time: Number.NaN }))).not.toBeInstanceOf(RecordTimeRefusedError);
  });

  it('holds text up to 65,535 bytes of UTF-8', () => {
    expect(columnProblem(text, 'x'.repeat(COLUMN_LIMITS.textBytes))).toBeUndefined();
    expect(columnProblem(text, 'é'.repeat(32_768))).toBe(
      'is 65536 bytes, more than the 65535 a text column holds',
    );
  });

  it('holds null only where the column may be null', () => {
    expect(columnProblem({ ...key, nullable: true }, null)).toBeUndefined();
    expect(columnProblem(key, null)).toBe('is missing (the column is NOT NULL)');
    expect(columnProblem({ ...key, nullable: true }, undefined)).toBe('is missing');
  });

  it('names the kind and the field of a refused record, and keeps the record', () => {
    const bad = fill({ clientOrderId: 'x'.repeat(200) });
    const refused = checkRecord('fills', bad);
    expect(refused).toBeInstanceOf(RecordRefusedError);
    expect(refused).toMatchObject({ kind: 'fills', field: 'client_order_id', record: bad });
    expect(refused?.message).toBe(
      'fills record refused: client_order_id is 200 characters, more than the 64 a key column holds',
    );
    expect(checkRecord('fills', fill({ clientOrderId: null }))).toBeUndefined();
    expect(checkRecord('income', income({ info: 'x'.repeat(100_000) }))?.field).toBe('info');
  });

  it("checks an order's state key too: a huge executed quantity makes one longer than a key", () => {
    expect(checkRecord('orderUpdates', order({ executedQty: `${'1'.repeat(22)}.5` }))).toBeUndefined();
    expect(checkRecord('orderUpdates', order({ executedQty: `${'1'.repeat(30)}.5` }))?.field).toBe(
      'state_key',
    );
  });

  it('refuses what is not a record at all without throwing', () => {
    expect(checkRecord('orderUpdates', null as unknown as OrderUpdateRecord)?.field).toBe('(record)');
    expect(
      checkRecord('orderUpdates', { ...order(), price: undefined } as unknown as OrderUpdateRecord),
    ).toMatchObject({ field: 'price', reason: 'is missing' });
  });

  it('checks cursors: the name is a key, the value text', () => {
    expect(checkCursor('reconciled:live:main', '5')).toBeUndefined();
    expect(checkCursor('n'.repeat(65), '5')).toMatchObject({ kind: 'cursor', field: 'name' });
    expect(checkCursor('n', 'v'.repeat(70_000))).toMatchObject({ kind: 'cursor', field: 'value' });
  });

  it('screens a batch: what fits passes on (the same arrays when nothing was refused), the rest is listed', () => {
    const fills = [fill({ tradeId: '1' }), fill({ tradeId: '2' })];
    const clean = screenBatch({ fills }, { c: '1' });
    expect(clean.batch.fills).toBe(fills);
    expect(clean.refused).toEqual([]);

    const bad = fill({ tradeId: '3', time: Number.NaN });
    const screened = screenBatch(
      { fills: [fills[0], bad, fills[1]].filter((f) => f !== undefined), income: [income()] },
      { ok: '1', ['n'.repeat(65)]: '2' },
    );
    expect(screened.batch.fills?.map((f) => f.tradeId)).toEqual(['1', '2']);
    expect(screened.batch.income).toHaveLength(1);
    expect(screened.cursors).toEqual({ ok: '1' });
    expect(screened.refused.map((r) => `${r.kind} ${r.field}`)).toEqual(['fills time', 'cursor name']);
  });
});
