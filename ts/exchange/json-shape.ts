// Small explicit readers for JSON response shapes: every field is checked, nothing is cast.
import { Decimal } from '../exact/decimal.js';
import { ExchangeError } from './exchange-errors.js';

/** A JSON value is not the documented shape; `where` is the path into the document. */
export class ShapeError extends ExchangeError {
  override readonly name = 'ShapeError';
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

/** A JSON object being read, with its path for error messages. */
export interface JsonObject {
  readonly at: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `string ${JSON.stringify(value.slice(0, 40))}` : typeof value;
}

/** Parses UTF-8 JSON bytes. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new ShapeError('$', `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: unknown, at: string): JsonObject {
  if (!isRecord(value)) throw new ShapeError(at, `expected an object, got ${describe(value)}`);
  return { at, fields: value };
}

export function arrayAt(value: unknown, at: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(at, `expected an array, got ${describe(value)}`);
  return value;
}

/** Maps every element of a JSON array with `decode`. */
export function arrayOf<T>(value: unknown, at: string, decode: (item: unknown, at: string) => T): T[] {
  return arrayAt(value, at).map((item, i) => decode(item, `${at}[${i}]`));
}

export function str(o: JsonObject, key: string): string {
  const v = o.fields[key];
  if (typeof v !== 'string') throw new ShapeError(`${o.at}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

export function optStr(o: JsonObject, key: string): string | null {
  const v = o.fields[key];
  return v === undefined || v === null ? null : str(o, key);
}

/** A safe integer (ids, times); Binance sends some as numbers and some as digit strings. */
export function int(o: JsonObject, key: string): number {
  const v = o.fields[key];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  throw new ShapeError(`${o.at}.${key}`, `expected an integer, got ${describe(v)}`);
}

export function optInt(o: JsonObject, key: string): number | null {
  const v = o.fields[key];
  return v === undefined || v === null ? null : int(o, key);
}

/** An exact decimal from Binance's decimal string. */
export function dec(o: JsonObject, key: string): Decimal {
  const v = o.fields[key];
  const parsed = typeof v === 'string' ? Decimal.tryParse(v) : undefined;
  if (parsed === undefined)
    throw new ShapeError(`${o.at}.${key}`, `expected a decimal string, got ${describe(v)}`);
  return parsed;
}

export function optDec(o: JsonObject, key: string): Decimal | null {
  const v = o.fields[key];
  return v === undefined || v === null ? null : dec(o, key);
}

export function bool(o: JsonObject, key: string): boolean {
  const v = o.fields[key];
  if (typeof v !== 'boolean')
    throw new ShapeError(`${o.at}.${key}`, `expected a boolean, got ${describe(v)}`);
  return v;
}

export function optBool(o: JsonObject, key: string): boolean | null {
  const v = o.fields[key];
  return v === undefined || v === null ? null : bool(o, key);
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(o: JsonObject, key: string, allowed: readonly T[]): T {
  const v = str(o, key);
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw new ShapeError(`${o.at}.${key}`, `unexpected value ${JSON.stringify(v)}`);
  return found;
}
