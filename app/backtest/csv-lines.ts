// Byte-level reading of data.binance.vision aggTrades rows: a row's time, a whole row, and binary search by time.

/** One aggTrade row as the backtest needs it (exact price and quantity text). */
export interface TradeRow {
  readonly price: string;
  readonly qty: string;
  readonly time: number;
  /** `is_buyer_maker`: the taker sold. */
  readonly takerSold: boolean;
}

const COMMA = 44;
const NL = 10;
const CR = 13;
const ZERO = 48;
const NINE = 57;

/** Index of the `n`-th comma (1-based) at or after `from`, before `end`; -1 if absent. */
function comma(buf: Uint8Array, from: number, end: number, n: number): number {
  let seen = 0;
  for (let i = from; i < end; i++) {
    if (buf[i] === COMMA && ++seen === n) return i;
  }
  return -1;
}

/** End of the line starting at `start` (index of its `\n`, or `end`). */
export function lineEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === NL) return i;
  return end;
}

/** Start of the line containing `at`. */
export function lineStart(buf: Uint8Array, at: number): number {
  let i = at;
  while (i > 0 && buf[i - 1] !== NL) i--;
  return i;
}

/**
 * `transact_time` (column 6) of the row at `[start, end)`, in milliseconds (µs times, as spot dumps
 * use since 2025, are divided down); NaN for a header or malformed row.
 */
export function rowTime(buf: Uint8Array, start: number, end: number): number {
  const c5 = comma(buf, start, end, 5);
  if (c5 < 0) return Number.NaN;
  let t = 0;
  let digits = 0;
  for (let i = c5 + 1; i < end; i++) {
    const b = buf[i] as number;
    if (b === COMMA) break;
    if (b < ZERO || b > NINE) return Number.NaN;
    t = t * 10 + (b - ZERO);
    digits++;
  }
  if (digits === 0) return Number.NaN;
  return isMicros(t) ? Math.floor(t / 1000) : t;
}

/**
 * Whether a dump's time is in microseconds (spot dumps since 2025): above 10^14, which as ms would
 * be the year 5138 and as µs is 1973.
 */
export function isMicros(time: number): boolean {
  return time > 1e14;
}

/** The row at `[start, end)`, or undefined for a header or malformed row. */
export function parseRow(buf: Uint8Array, start: number, end: number): TradeRow | undefined {
  let stop = end;
  if (stop > start && buf[stop - 1] === CR) stop--;
  const c1 = comma(buf, start, stop, 1);
  const c2 = c1 < 0 ? -1 : comma(buf, c1 + 1, stop, 1);
  const c5 = c2 < 0 ? -1 : comma(buf, c2 + 1, stop, 3);
  const c6 = c5 < 0 ? -1 : comma(buf, c5 + 1, stop, 1);
  if (c6 < 0) return undefined;
  const time = rowTime(buf, start, stop);
  if (!Number.isFinite(time)) return undefined;
  const flag = buf[c6 + 1];
  return {
    price: Buffer.from(buf.buffer, buf.byteOffset + c1 + 1, c2 - c1 - 1).toString('latin1'),
    qty: Buffer.from(buf.buffer, buf.byteOffset + c2 + 1, comma(buf, c2 + 1, stop, 1) - c2 - 1).toString(
      'latin1',
    ),
    time,
    takerSold: flag === 116 || flag === 84, // 't' or 'T'
  };
}

/**
 * The offset of the first row in `[from, end)` whose time is `>= time` (rows are in time order),
 * or `end` when there is none; `[from, end)` holds whole lines. Binary search: O(log n) row reads.
 */
export function firstRowAtOrAfter(buf: Uint8Array, from: number, end: number, time: number): number {
  let lo = from;
  let hi = end;
  // Invariant: every row starting before lo is < time; the row starting at hi (if any) is >= time.
  while (lo < hi) {
    const mid = lineStart(buf, (lo + hi) >>> 1);
    const start = Math.max(mid, lo);
    const stop = lineEnd(buf, start, end);
    const t = rowTime(buf, start, stop);
    if (Number.isNaN(t) || t < time) {
      lo = stop + 1;
    } else {
      hi = start;
    }
  }
  return Math.min(lo, end);
}

/** The last row in `[from, to)` (whole lines), or undefined. */
export function lastRowBefore(buf: Uint8Array, from: number, to: number): TradeRow | undefined {
  let end = to;
  while (end > from) {
    if (buf[end - 1] === NL) end--;
    const start = Math.max(from, lineStart(buf, end));
    const row = parseRow(buf, start, end);
    if (row !== undefined) return row;
    end = start;
  }
  return undefined;
}
