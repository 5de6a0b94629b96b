// Binance kline intervals for the pure-TypeScript baselines: names, lengths and UTC bar boundaries.

/** Every interval Binance serves (`1M` is a calendar month). */
export const JS_INTERVALS = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;

/** A Binance kline interval name. */
export type JsIntervalName = (typeof JS_INTERVALS)[number];

/** The intervals the bar aggregator builds (DESIGN.md 3.5): every fixed one but 6h, 3d and 1w. */
export const AGGREGATED_INTERVALS: readonly JsIntervalName[] = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '8h',
  '12h',
  '1d',
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-05 was the first Monday after the epoch; Binance weeks start on Monday 00:00 UTC. */
const FIRST_MONDAY = 4 * DAY;

/** Length in ms of each fixed-length interval (`1M` has none). */
const FIXED_MS: ReadonlyMap<string, number> = new Map<JsIntervalName, number>([
  ['1m', MINUTE],
  ['3m', 3 * MINUTE],
  ['5m', 5 * MINUTE],
  ['15m', 15 * MINUTE],
  ['30m', 30 * MINUTE],
  ['1h', HOUR],
  ['2h', 2 * HOUR],
  ['4h', 4 * HOUR],
  ['6h', 6 * HOUR],
  ['8h', 8 * HOUR],
  ['12h', 12 * HOUR],
  ['1d', DAY],
  ['3d', 3 * DAY],
  ['1w', 7 * DAY],
]);

/** True when `name` is an interval Binance serves. */
export function isJsIntervalName(name: string): name is JsIntervalName {
  return FIXED_MS.has(name) || name === '1M';
}

/** Length in ms of a fixed-length interval; undefined for `1M`. */
export function fixedIntervalMs(interval: JsIntervalName): number | undefined {
  return FIXED_MS.get(interval);
}

/** Open time (Unix ms, UTC) of the `interval` bar containing `timeMs`. */
export function barOpenTime(interval: JsIntervalName, timeMs: number): number {
  if (interval === '1M') {
    const date = new Date(timeMs);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  const length = FIXED_MS.get(interval) ?? MINUTE;
  if (interval === '1w') {
    return Math.floor((timeMs - FIRST_MONDAY) / length) * length + FIRST_MONDAY;
  }
  return Math.floor(timeMs / length) * length;
}

/** The last millisecond of the `interval` bar opening at `openTime`. */
export function barCloseTime(interval: JsIntervalName, openTime: number): number {
  if (interval === '1M') {
    const date = new Date(openTime);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) - 1;
  }
  return openTime + (FIXED_MS.get(interval) ?? MINUTE) - 1;
}
