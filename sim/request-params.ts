// Reading Binance request parameters with Binance's own error codes for missing or bad values.
import { Decimal } from '../ts/exact/decimal.js';
import { type Params, SimRejection } from './contracts.js';

/** -1102: a mandatory parameter is missing or empty. */
export function missing(name: string): SimRejection {
  return new SimRejection(
    400,
    -1102,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

/** -1100 / -1130: a parameter is present but not acceptable. */
export function illegal(name: string, value: string): SimRejection {
  return new SimRejection(
    400,
    -1130,
    `Data sent for parameter '${name}' is not valid: ${value.slice(0, 64)}`,
  );
}

export function requireString(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw missing(name);
  return value;
}

export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

export function requireDecimal(params: Params, name: string): Decimal {
  const text = requireString(params, name);
  const value = Decimal.tryParse(text);
  if (value === undefined) throw illegal(name, text);
  return value;
}

export function optionalDecimal(params: Params, name: string): Decimal | undefined {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  const value = Decimal.tryParse(text);
  if (value === undefined) throw illegal(name, text);
  return value;
}

/** An integer parameter (ids, times, limits), within `min..max` when given. */
export function optionalInt(
  params: Params,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  if (!/^-?\d{1,16}$/.test(text)) throw illegal(name, text);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw illegal(name, text);
  return value;
}

export function requireInt(params: Params, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = optionalInt(params, name, min, max);
  if (value === undefined) throw missing(name);
  return value;
}

/** One of a fixed set of values (enums such as `side`, `type`, `timeInForce`). */
export function optionalEnum<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw illegal(name, text);
  return text as T;
}

export function requireEnum<T extends string>(params: Params, name: string, allowed: readonly T[]): T {
  const value = optionalEnum(params, name, allowed);
  if (value === undefined) throw missing(name);
  return value;
}

/** `true` / `false` as Binance writes booleans in parameters. */
export function optionalBool(params: Params, name: string): boolean | undefined {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  if (text === 'true' || text === 'TRUE') return true;
  if (text === 'false' || text === 'FALSE') return false;
  throw illegal(name, text);
}
