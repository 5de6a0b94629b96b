// The time window of a USD-M history query (allOrders, userTrades, allAlgoOrders), with Binance's rules and refusals.
import type { Params } from '../contracts.js';
import { optionalInt } from '../request-params.js';
import { Reject } from './rejections.js';

/** The longest window these endpoints serve, and their default when no time is sent: 7 days. */
export const HISTORY_WINDOW_MS = 7 * 86_400_000;

/** The times a history query selects by: both ends inclusive, in ms. */
export interface HistoryWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * The window a query's `startTime` / `endTime` select, as Binance serves them: neither sent, the
 * last 7 days; one sent, the 7 days after the start or before the end; both, at most 7 days apart
 * (-1127) and in order (-1023).
 */
export function historyWindow(params: Params, now: number): HistoryWindow {
  const start = optionalInt(params, 'startTime');
  const end = optionalInt(params, 'endTime');
  if (start === undefined && end === undefined) return { start: now - HISTORY_WINDOW_MS, end: now };
  if (start === undefined) return { start: (end as number) - HISTORY_WINDOW_MS, end: end as number };
  if (end === undefined) return { start, end: start + HISTORY_WINDOW_MS };
  if (start > end) throw Reject.startAfterEnd();
  if (end - start > HISTORY_WINDOW_MS) throw Reject.windowTooLong(HISTORY_WINDOW_MS / 3_600_000);
  return { start, end };
}

/** Whether the query names a time at all (an id cursor and a time cannot be combined on userTrades). */
export function sendsTime(params: Params): boolean {
  return optionalInt(params, 'startTime') !== undefined || optionalInt(params, 'endTime') !== undefined;
}

/** Whether the query sends a start time: the window's oldest rows come first, else its newest. */
export function sendsStart(params: Params): boolean {
  return optionalInt(params, 'startTime') !== undefined;
}
