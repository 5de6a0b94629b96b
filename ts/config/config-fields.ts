// The building blocks of configuration sections: zod schemas for each kind of option, with messages that say what is expected and what was found.
import { isIP } from 'node:net';
import { z } from 'zod';
import { INTERVALS, type IntervalName } from '../native/interval.js';

/** What a zod error function is handed (only the parts used here). */
interface RawIssue {
  readonly code?: string | undefined;
  readonly input?: unknown;
}

/** A short, safe rendering of a bad value for an error message (strings cut at 40 characters). */
export function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/**
 * An error function for a schema: "must be <expected>, got <value>", or "is required (<expected>)"
 * when the option is missing. Unknown keys are worded by `configIssues`, so they are left alone here.
 */
export function expecting(expected: string): (issue: RawIssue) => string | undefined {
  return (issue) => {
    if (issue.code === 'unrecognized_keys') return undefined;
    if (issue.input === undefined) return `is required (${expected})`;
    return `must be ${expected}, got ${shown(issue.input)}`;
  };
}

/**
 * One section (or sub-section) of the configuration: an object whose unknown keys are errors. Give
 * every option a default (or make it optional) so that `.prefault({})` can fill an absent section.
 */
export function section<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject(shape, { error: expecting('an object') });
}

/** An integer within `[min, max]` (counts, ports, milliseconds). */
export function integer(min: number, max: number) {
  const error = expecting(`an integer from ${min} to ${max}`);
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number within `[min, max]` (ratios and rates, never money: money is a decimal string). */
export function number(min: number, max: number) {
  const error = expecting(`a number from ${min} to ${max}`);
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/** A number within `[min, max]`, or the word `word` (e.g. a replay speed or `"max"`). */
export function numberOrWord<W extends string>(min: number, max: number, word: W) {
  const error = expecting(`a number from ${min} to ${max} or "${word}"`);
  return z.union([z.number({ error }).min(min, { error }).max(max, { error }), z.literal(word, { error })], {
    error,
  });
}

/** A non-empty string. */
export function text() {
  const error = expecting('a non-empty string');
  return z.string({ error }).min(1, { error });
}

/** An IPv4 or IPv6 address (`127.0.0.1`, `::1`), no host name: compared with a socket's peer address. */
export function ipAddress() {
  return z.string({ error: expecting('an IP address') }).refine((value) => isIP(value) !== 0, {
    error: (issue) => `${shown(issue.input)} is not an IP address (a host name is not resolved here)`,
  });
}

/** true or false. */
export function flag() {
  return z.boolean({ error: expecting('true or false') });
}

/** One of a fixed set of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expecting(`one of ${values.join(', ')}`) });
}

/** A URL with one of the given schemes (`['http', 'https']`). */
export function url(schemes: readonly string[]) {
  const error = expecting(`a URL starting ${schemes.map((s) => `${s}://`).join(' or ')}`);
  return z.url({ protocol: new RegExp(`^(${schemes.join('|')})$`), error });
}

/** A decimal written as a string (`"10000"`, `"0.0002"`), kept as the exact string: money is never a float. */
export function decimalString() {
  return z
    .string({ error: expecting('a decimal number written as a string') })
    .regex(/^-?\d+(\.\d+)?$/, { error: expecting('a decimal number written as a string') });
}

/** Adds an issue at the second (and any later) place of a name a list holds more than once. */
function refuseRepeats(names: readonly string[], ctx: z.RefinementCtx): void {
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i)
      ctx.addIssue({ code: 'custom', path: [i], message: `${shown(name)} is named twice` });
  });
}

/** A Binance interval name (`1m` … `1M`). */
export function intervalName() {
  return z.enum(INTERVALS, {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `${shown(issue.input)} is not a Binance interval`
        : `must be an interval name such as "1m", got ${shown(issue.input)}`,
  });
}

/** A list of interval names, `defaults` when absent; one named twice is refused (it would be polled twice). */
export function intervalList(defaults: readonly IntervalName[]) {
  return z
    .array(intervalName(), { error: expecting('an array of interval names') })
    .superRefine(refuseRepeats)
    .default(() => [...defaults]);
}

/** A contract's symbol name (`BTCUSDT`). */
export function symbolName() {
  return z.string({ error: expecting('a symbol name') }).regex(/^[A-Z0-9]{2,20}$/, {
    error: (issue) => `${shown(issue.input)} is not a symbol name (A-Z, 0-9)`,
  });
}

/** A list of symbol names, empty when absent; a name given twice is refused (a typo for another one, or a copy that doubles its work). */
export function symbolList() {
  return z
    .array(symbolName(), { error: expecting('an array of symbol names') })
    .superRefine(refuseRepeats)
    .default(() => []);
}

/** Makes every property of a parsed section read-only, all the way down. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The settings a section's schema produces (defaults filled), read-only. */
export type SectionSettings<S extends z.ZodType> = DeepReadonly<z.output<S>>;
