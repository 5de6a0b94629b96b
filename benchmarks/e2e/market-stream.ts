// The end-to-end benchmark's exchange messages: kline and bookTicker updates that each change the book, and how to tell which message a frame carries.
import * as flatbuffers from 'flatbuffers';
import { Frame, FrameKind } from '../../ts/wire/generated/hub_generated.js';
import { seeded } from '../fixtures.js';

/** Symbols of the end-to-end run (the hub's registry order: id = position). */
export const E2E_SYMBOLS = Array.from({ length: 200 }, (_, i) => `E2E${i}USDT`);

/**
 * Every symbol has two series: its open 1m kline (series `2·id`) and its top of book
 * (series `2·id + 1`). Message `m` is update `j = ⌊m / SERIES⌋` of series `m mod SERIES`, so the
 * series take turns and every update is news: a kline's trade count is `j + 1` (more trades win
 * the merge), a quote's update id is `j + 1` and its time `T0 + j` ms (newer wins).
 */
export const SERIES = E2E_SYMBOLS.length * 2;

const T0 = 1778198400000;
/** One bar holds the whole run: event times stay inside it up to this many updates per series. */
export const MAX_UPDATES_PER_SERIES = 59_999;

/** `[series, update]` of message `m`. */
export function messageSeries(m: number): [number, number] {
  return [m % SERIES, Math.floor(m / SERIES)];
}

/** The message index of update `j` of `series`. */
export function messageIndex(series: number, j: number): number {
  return j * SERIES + series;
}

const price = (ticks: number): string => (ticks / 10).toFixed(1);
const qty = (steps: number): string => (steps / 1000).toFixed(3);

interface KlineState {
  close: number;
  high: number;
  low: number;
  v: number;
  q: number;
  V: number;
  Q: number;
}

/**
 * Produces the messages in order, as the exchange's combined-stream JSON (the bytes a collector's
 * socket delivers): `kline_1m` events of an open bar and `bookTicker` events, prices on a seeded
 * random walk. Deterministic: the same sequence in every run and process.
 */
export class MarketStream {
  #next = 0;
  readonly #rnd = seeded(44);
  readonly #klines: KlineState[] = E2E_SYMBOLS.map(() => ({
    close: 500_000,
    high: 500_000,
    low: 500_000,
    v: 0,
    q: 0,
    V: 0,
    Q: 0,
  }));
  readonly #bids: number[] = E2E_SYMBOLS.map(() => 500_000);

  /** Index of the next message. */
  get position(): number {
    return this.#next;
  }

  /** The next `count` messages. */
  take(count: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) out.push(this.#message(this.#next++));
    return out;
  }

  #message(m: number): Buffer {
    const [series, j] = messageSeries(m);
    if (j > MAX_UPDATES_PER_SERIES)
      throw new RangeError(`message ${m}: more than ${MAX_UPDATES_PER_SERIES} updates per series`);
    const id = series >> 1;
    const symbol = E2E_SYMBOLS[id] ?? '';
    const stream = symbol.toLowerCase();
    const time = T0 + j;
    if ((series & 1) === 0) {
      const st = this.#klines[id];
      if (st === undefined) throw new RangeError(`no state for symbol ${id}`);
      st.close += Math.round((this.#rnd() - 0.5) * 8);
      st.high = Math.max(st.high, st.close);
      st.low = Math.min(st.low, st.close);
      const steps = 1 + Math.floor(this.#rnd() * 500);
      st.v += steps;
      st.q += steps * st.close;
      if (this.#rnd() < 0.5) {
        st.V += steps;
        st.Q += steps * st.close;
      }
      const k = {
        t: T0,
        T: T0 + 59_999,
        s: symbol,
        i: '1m',
        f: 1,
        L: j + 1,
        o: price(500_000),
        c: price(st.close),
        h: price(st.high),
        l: price(st.low),
        v: qty(st.v),
        n: j + 1,
        x: false,
        q: (st.q / 10_000).toFixed(4),
        V: qty(st.V),
        Q: (st.Q / 10_000).toFixed(4),
        B: '0',
      };
      return Buffer.from(
        JSON.stringify({ stream: `${stream}@kline_1m`, data: { e: 'kline', E: time, s: symbol, k } }),
      );
    }
    const bid = (this.#bids[id] ?? 500_000) + Math.round((this.#rnd() - 0.5) * 4);
    this.#bids[id] = bid;
    const msg = {
      e: 'bookTicker',
      u: j + 1,
      s: symbol,
      b: price(bid),
      B: qty(1 + Math.floor(this.#rnd() * 9000)),
      a: price(bid + 1),
      A: qty(1 + Math.floor(this.#rnd() * 9000)),
      T: time,
      E: time + 2,
    };
    return Buffer.from(JSON.stringify({ stream: `${stream}@bookTicker`, data: msg }));
  }
}

/** First byte of a compact (wire 2) Delta frame (docs/protocol.md, Compact Delta frames). */
const COMPACT_MARKER = 0xd2;

/**
 * Reads which updates a frame carries, calling `visit(series, j)` for each kline row and quote,
 * and returns the frame kind. Works on Ingest frames (what the relay forwards) and on the hub's
 * Delta and Snapshot frames alike: the trade count and the update id pass through the merge
 * unchanged, so they name the message. A compact Delta frame's rows carry differences, not the
 * trade count: `appliedTrades(symbol)` reads the bar's trade count from the book that applied
 * the frame (rows are named by their key alone; the tail is a TRB1 frame).
 */
export function frameUpdates(
  frame: Uint8Array,
  visit: (series: number, j: number) => void,
  appliedTrades?: (symbol: number) => number | undefined,
): FrameKind {
  if (frame[0] === COMPACT_MARKER) return compactUpdates(frame, visit, appliedTrades);
  const root = Frame.getRootAsFrame(new flatbuffers.ByteBuffer(frame));
  const kind = root.kind();
  for (let g = 0, groups = root.klinesLength(); g < groups; g++) {
    const group = root.klines(g);
    if (group === null) continue;
    const series = group.symbol() * 2;
    let newest = -1;
    for (let r = 0, rows = group.rowsLength(); r < rows; r++) {
      const trades = Number(group.rows(r)?.trades() ?? 0n);
      if (trades - 1 > newest) newest = trades - 1;
    }
    if (newest >= 0) visit(series, newest);
  }
  for (let t = 0, ticks = root.ticksLength(); t < ticks; t++) {
    const tick = root.ticks(t);
    if (tick === null) continue;
    visit(tick.symbol() * 2 + 1, Number(tick.updateId()) - 1);
  }
  return kind;
}

/** The updates of a compact Delta frame: each row's bar read from the book, the tail's quotes. */
function compactUpdates(
  frame: Uint8Array,
  visit: (series: number, j: number) => void,
  appliedTrades: ((symbol: number) => number | undefined) | undefined,
): FrameKind {
  let at = 1;
  // Only keys and masks are used; other varints are stepped over (their value may pass 2^53).
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    let byte = 0x80;
    while (byte & 0x80 && at < frame.length) {
      byte = frame[at++] ?? 0;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    }
    return value;
  };
  for (let header = 0; header < 4; header++) varint(); // stream, seq, turn step, sent_at
  const rows = varint();
  for (let r = 0; r < rows; r++) {
    const symbol = Math.floor(varint() / 16);
    const mask = varint();
    if (mask & 1) varint(); // base_back
    varint(); // open time
    for (let bit = 1; bit <= 17; bit++) if (mask & (1 << bit)) varint();
    const trades = appliedTrades?.(symbol);
    if (trades !== undefined && trades > 0) visit(symbol * 2, trades - 1);
  }
  if (at < frame.length) frameUpdates(frame.subarray(at), visit);
  return FrameKind.Delta;
}

export { FrameKind };
