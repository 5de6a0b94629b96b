// The end-to-end benchmark's exchange messages: kline and bookTicker updates that each change the book, and how to tell which message a frame carries.
import * as flatbuffers from 'flatbuffers';
import { INTERVALS } from '../../ts/native/interval.js';
import { Frame, FrameKind } from '../../ts/wire/generated/hub_generated.js';
import { seeded } from '../fixtures.js';

/** The kline intervals an end-to-end run may carry. */
export type E2eInterval = '1m' | '15m';

/**
 * What an end-to-end run carries: `symbols` symbols, each with one open kline per interval and
 * its top of book. Symbol `id` owns series `id·(k+1) + i` for its interval `i` (of `k`) and
 * `id·(k+1) + k` for its quote. Message `m` is update `j = ⌊m / series⌋` of series
 * `m mod series`, so the series take turns and every update is news: a kline's trade count is
 * `j + 1` (more trades win the merge), a quote's update id is `j + 1` and its time `T0 + j` ms.
 */
export interface E2eUniverse {
  readonly symbols: number;
  readonly intervals: readonly E2eInterval[];
}

/** The default run: 200 symbols, 1m klines and quotes (400 series). */
export const DEFAULT_UNIVERSE: E2eUniverse = { symbols: 200, intervals: ['1m'] };

/** The real USD-M universe's size: 600 symbols, 1m and 15m klines and quotes (1,800 series). */
export const USDM_UNIVERSE: E2eUniverse = { symbols: 600, intervals: ['1m', '15m'] };

/** Symbol names of a universe (the hub's registry order: id = position). */
export function e2eSymbols(universe: E2eUniverse): string[] {
  return Array.from({ length: universe.symbols }, (_, i) => `E2E${i}USDT`);
}

/** Number of series of a universe. */
export function seriesCount(universe: E2eUniverse): number {
  return universe.symbols * (universe.intervals.length + 1);
}

/** Symbols of the default run. */
export const E2E_SYMBOLS = e2eSymbols(DEFAULT_UNIVERSE);

/** Series of the default run. */
export const SERIES = seriesCount(DEFAULT_UNIVERSE);

const T0 = 1778198400000;
/** One bar holds the whole run: event times stay inside it up to this many updates per series. */
export const MAX_UPDATES_PER_SERIES = 59_999;

/** `[series, update]` of message `m`. */
export function messageSeries(m: number, universe: E2eUniverse = DEFAULT_UNIVERSE): [number, number] {
  const series = seriesCount(universe);
  return [m % series, Math.floor(m / series)];
}

/** The message index of update `j` of `series`. */
export function messageIndex(series: number, j: number, universe: E2eUniverse = DEFAULT_UNIVERSE): number {
  return j * seriesCount(universe) + series;
}

/** Milliseconds of a bar of each interval. */
const BAR_MS: Record<E2eInterval, number> = { '1m': 60_000, '15m': 900_000 };

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
  readonly #universe: E2eUniverse;
  readonly #symbols: string[];
  /** Per symbol and interval (`id·k + i`). */
  readonly #klines: KlineState[];
  readonly #bids: number[];

  constructor(universe: E2eUniverse = DEFAULT_UNIVERSE) {
    this.#universe = universe;
    this.#symbols = e2eSymbols(universe);
    this.#klines = Array.from({ length: universe.symbols * universe.intervals.length }, () => ({
      close: 500_000,
      high: 500_000,
      low: 500_000,
      v: 0,
      q: 0,
      V: 0,
      Q: 0,
    }));
    this.#bids = this.#symbols.map(() => 500_000);
  }

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
    const [series, j] = messageSeries(m, this.#universe);
    if (j > MAX_UPDATES_PER_SERIES)
      throw new RangeError(`message ${m}: more than ${MAX_UPDATES_PER_SERIES} updates per series`);
    const k = this.#universe.intervals.length;
    const id = Math.floor(series / (k + 1));
    const slot = series % (k + 1);
    const symbol = this.#symbols[id] ?? '';
    const stream = symbol.toLowerCase();
    const time = T0 + j;
    const interval = this.#universe.intervals[slot];
    if (interval !== undefined) {
      const st = this.#klines[id * k + slot];
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
      const bar = {
        t: T0,
        T: T0 + BAR_MS[interval] - 1,
        s: symbol,
        i: interval,
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
        JSON.stringify({
          stream: `${stream}@kline_${interval}`,
          data: { e: 'kline', E: time, s: symbol, k: bar },
        }),
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

/**
 * Reads which updates a frame carries, calling `visit(series, j)` for each kline row and quote,
 * and returns the frame kind. Works on Ingest frames (what the relay forwards) and on the hub's
 * wire-1 Delta and Snapshot frames alike: the trade count and the update id pass through the
 * merge unchanged, so they name the message. (A hub-side trader reads its book's changes
 * instead: `applied-updates.ts`.)
 */
export function frameUpdates(
  frame: Uint8Array,
  visit: (series: number, j: number) => void,
  universe: E2eUniverse = DEFAULT_UNIVERSE,
): FrameKind {
  const root = Frame.getRootAsFrame(new flatbuffers.ByteBuffer(frame));
  const kind = root.kind();
  const width = universe.intervals.length + 1;
  for (let g = 0, groups = root.klinesLength(); g < groups; g++) {
    const group = root.klines(g);
    if (group === null) continue;
    const slot = intervalSlot(universe, group.interval());
    if (slot < 0) continue;
    const series = group.symbol() * width + slot;
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
    visit(tick.symbol() * width + width - 1, Number(tick.updateId()) - 1);
  }
  return kind;
}

/** Position of interval code `code` in the universe's intervals (-1: not carried). */
function intervalSlot(universe: E2eUniverse, code: number): number {
  const name = INTERVALS[code];
  return name === undefined ? -1 : (universe.intervals as readonly string[]).indexOf(name);
}

export { FrameKind };
