// Binance kline interval names as a TypeScript type, with UTC bar boundaries from the core.
import { binding } from './binding.js';
import { callNative } from './native-error.js';

/** Every interval Binance serves (`1M` is a calendar month). */
export const INTERVALS = [
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
export type IntervalName = (typeof INTERVALS)[number];

/** True when `name` is an interval Binance serves. */
export function isIntervalName(name: string): name is IntervalName {
  return (INTERVALS as readonly string[]).includes(name);
}

/** Open time (Unix ms, UTC) of the `interval` bar containing `timeMs`. */
export function intervalOpenTime(interval: IntervalName, timeMs: number): number {
  return callNative(() => binding.intervalOpenTime(interval, timeMs));
}
