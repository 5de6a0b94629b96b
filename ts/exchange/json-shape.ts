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

/**
 * Parses UTF-8 JSON bytes. An integer too large for a double to hold exactly (Binance's funding
 * fee `tranId`s have 18–19 digits, sent as bare numbers) is read as its digit string instead, so no
 * id loses digits and two ids never become one; {@link id} reads either form.
 */
export function parseJson(body: Uint8Array): unknown {
  try {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    return JSON.parse(quoteUnsafeIntegers(text));
  } catch (error) {
    throw new ShapeError('$', `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

const LONG_DIGITS = /\d{16}/;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * `text` with every integer literal outside strings that is not a safe integer wrapped in quotes.
 * Only a text with a run of 16 digits can hold one, so other bodies are returned as they are.
 */
export function quoteUnsafeIntegers(text: string): string {
  if (!LONG_DIGITS.test(text)) return text;
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    NUMBER.lastIndex = i;
    const token = NUMBER.exec(text)?.[0];
    if (token === undefined) continue;
    if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out += `${text.slice(copied, i)}"${token}"`;
      copied = i + token.length;
    }
    i += token.length - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
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

/**
 * An id as its digit string: a safe integer number, or digits of any length (an id too large for a
 * double arrives as digits, see {@link parseJson}). Leading zeros are not an id's: refused.
 */
export function id(o: JsonObject, key: string): string {
  const v = o.fields[key];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,29})$/.test(v)) return v;
  throw new ShapeError(`${o.at}.${key}`, `expected an id (digits), got ${describe(v)}`);
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
