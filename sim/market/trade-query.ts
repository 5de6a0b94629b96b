// GET /fapi/v1/aggTrades over a symbol's generated history and its live tape, as one id sequence.
import type { Json } from '../contracts.js';
import type { HistTrade } from './history/minute-trades.js';
import type { SymbolMarket } from './symbol-market.js';
import type { TapeQuery, TapeTrade } from './tape.js';

const MINUTE = 60_000;
/** Minutes scanned for one request at most (a request never spans more than an hour of trades). */
const MAX_MINUTES = 61;

type Row = { [key: string]: Json };

// Binance's REST rows carry a, p, q, f, l, T, m (the stream's `nq` is not among them).
function historyRow(m: SymbolMarket, t: HistTrade): Row {
  const q = m.units.qty(t.steps);
  return { a: t.a, p: m.units.price(t.ticks), q, f: t.f, l: t.l, T: t.T, m: t.m };
}

function tapeRow(t: TapeTrade): Row {
  return { a: t.a, p: t.p, q: t.q, f: t.f, l: t.l, T: t.T, m: t.m };
}

/**
 * The aggTrades a request selects, oldest first: by `fromId` (inclusive; ids continue from the
 * history into the live tape), by time, or the most recent ones. The history is regenerated minute
 * by minute on demand; the live tape keeps only its newest trades, so a live span older than it
 * returns nothing.
 */
export function aggTrades(m: SymbolMarket, q: TapeQuery): Row[] {
  const liveFirst = m.history.liveFirstAggId;
  const out: Row[] = [];
  const fromId = q.fromId;
  if (fromId !== undefined) {
    // The history scan may stop before the live tape (a page of at most an hour): the page then
    // ends there, and the client's next page goes on from its last id.
    const historyDone =
      fromId >= liveFirst ||
      collectForward(m, m.history.minuteOfAggId(fromId), (t) => t.a >= fromId, q.limit, out);
    const from = Math.max(fromId, liveFirst);
    // Ids are contiguous: a tape that dropped `from` (it keeps only its newest trades) cannot
    // answer from there, and skipping to its first trade would hide the hole from the client.
    const tapeFirst = m.tape.first()?.a;
    if (historyDone && out.length < q.limit && (tapeFirst === undefined || tapeFirst <= from)) {
      for (const t of m.tape.query({ fromId: from, limit: q.limit - out.length })) out.push(tapeRow(t));
    }
    return out;
  }
  const liveStart = m.history.end;
  if (q.startTime !== undefined) {
    const start = q.startTime;
    const end = q.endTime ?? start + 3_600_000;
    if (start < liveStart) {
      const minute = Math.floor(start / MINUTE) * MINUTE;
      collectForward(m, Math.max(minute, m.history.start), (t) => t.T >= start && t.T <= end, q.limit, out);
    }
    if (out.length < q.limit && end >= liveStart) {
      for (const t of m.tape.query({ startTime: start, endTime: end, limit: q.limit - out.length }))
        out.push(tapeRow(t));
    }
    return out;
  }
  // The most recent trades (before endTime when given): the tape first, then the history before it.
  const live = m.tape.query({ endTime: q.endTime, limit: q.limit }).map(tapeRow);
  const tapeComplete = m.tape.size === 0 || m.tape.first()?.a === liveFirst;
  if (live.length >= q.limit || !tapeComplete) return live;
  const older: Row[] = [];
  const end = Math.min(q.endTime ?? Number.POSITIVE_INFINITY, liveStart - 1);
  let minute = Math.floor(end / MINUTE) * MINUTE;
  for (let i = 0; i < MAX_MINUTES && older.length < q.limit - live.length && minute >= m.history.start; i++) {
    const trades = m.history.minuteTradesAt(minute).filter((t) => t.T <= end);
    for (let j = trades.length - 1; j >= 0 && older.length < q.limit - live.length; j--) {
      older.push(historyRow(m, trades[j] as HistTrade));
    }
    minute -= MINUTE;
  }
  return [...older.reverse(), ...live];
}

/**
 * History trades from `minute` on that pass `keep`, until `limit` rows, `MAX_MINUTES` minutes or
 * the history's end; true when it scanned to the history's end.
 */
function collectForward(
  m: SymbolMarket,
  minute: number | undefined,
  keep: (t: HistTrade) => boolean,
  limit: number,
  out: Row[],
): boolean {
  if (minute === undefined) return false;
  let t = minute;
  for (let i = 0; t < m.history.end && i < MAX_MINUTES && out.length < limit; t += MINUTE, i++) {
    for (const trade of m.history.minuteTradesAt(t)) {
      if (out.length >= limit) return false;
      if (keep(trade)) out.push(historyRow(m, trade));
    }
  }
  return t >= m.history.end;
}
