// The compact (wire 2 and wire 3) Delta frames read by a reader written from docs/protocol.md alone, checked against the native trader book on the same frames.
import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../native/hub.js';
import { TraderBook } from '../native/trader-book.js';

const MASK64 = (1n << 64n) - 1n;
const SYMBOLS = Array.from({ length: 12 }, (_, i) => `CW${i}USDT`);
const STREAM = 1_234_567_890;
const T0 = 1_778_198_400_000;

/** A bar as the wire carries it (protocol.md: mantissas at their group's scale). */
interface WireBar {
  openTime: bigint;
  closeTime: bigint;
  asOf: bigint;
  trades: bigint;
  firstTradeId: bigint;
  lastTradeId: bigint;
  /** open, high, low, close */
  prices: bigint[];
  /** volume, taker buy volume */
  volumes: bigint[];
  /** quote volume, taker buy quote volume */
  quotes: bigint[];
  scales: number[];
  flags: number;
}

/** Signed 64-bit view of a value taken mod 2^64. */
const signed = (value: bigint): bigint => BigInt.asIntN(64, value & MASK64);
const unzigzag = (u: bigint): bigint => (u >> 1n) ^ -(u & 1n);
/** `reference` plus a written difference, mod 2^64. */
const plus = (reference: bigint, written: bigint): bigint => signed(reference + unzigzag(written));

/** A tick as a wire-3 tick row carries it (protocol.md, "Compact tick rows (wire 3)"). */
interface WireTick {
  flags: number;
  priceScale: number;
  qtyScale: number;
  time: bigint;
  updateId: bigint;
  bid: bigint;
  ask: bigint;
  last: bigint;
  bidQty: bigint;
  askQty: bigint;
}

/**
 * The reader of protocol.md's "Compact Delta frames (wire 2)" (header, rows, rules 2–5) and
 * "Compact tick rows (wire 3)".
 */
class CompactReader {
  readonly bars = new Map<string, { turn: bigint; bar: WireBar }>();
  readonly ticks = new Map<number, WireTick>();
  turn = 0n;
  mismatches = 0;

  apply(frame: Buffer): void {
    let at = 0;
    const varint = (): bigint => {
      let value = 0n;
      for (let shift = 0n; ; shift += 7n) {
        const byte = frame[at++];
        if (byte === undefined) throw new Error('truncated');
        value |= BigInt(byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) return value;
      }
    };
    const marker = frame[at++];
    if (marker !== 0xd2 && marker !== 0xd3) throw new Error('not a compact frame');
    varint(); // stream
    varint(); // seq
    const turn = this.turn + varint();
    this.turn = turn;
    const sentAt = unzigzag(varint());
    const rows = Number(varint());
    for (let r = 0; r < rows; r++) {
      const key = varint();
      const mask = varint();
      const has = (bit: number): boolean => (mask & (1n << BigInt(bit))) !== 0n;
      const back = has(0) ? varint() : 0n;
      const open = unzigzag(varint());
      const openTime = has(18)
        ? sentAt + open
        : ((sentAt - (((sentAt % 60_000n) + 60_000n) % 60_000n)) / 60_000n + open) * 60_000n;
      const written = new Map<number, bigint>();
      for (let bit = 1; bit <= 17; bit++) if (has(bit)) written.set(bit, varint());
      const id = `${key >> 4n}:${key & 15n}:${openTime}`;
      const held = this.bars.get(id);
      let base: WireBar | undefined;
      if (has(0)) {
        const from = turn - back;
        if (held === undefined || held.turn < from || held.turn >= turn) {
          this.mismatches += 1;
          continue;
        }
        base = held.bar;
      }
      this.bars.set(id, { turn, bar: resolve(openTime, sentAt, written, base) });
    }
    if (marker === 0xd3) {
      const count = Number(varint());
      for (let t = 0; t < count; t++) {
        const symbol = Number(varint());
        const head = varint();
        if (head >> 12n !== 0n) throw new Error('unknown head bits');
        const flags = Number(head & 3n);
        const time = plus(sentAt, varint());
        const updateId = (flags & 2) !== 0 ? varint() : 0n;
        const bid = unzigzag(varint());
        const ask = plus(bid, varint());
        const last = (flags & 1) !== 0 ? plus(bid, varint()) : 0n;
        const bidQty = unzigzag(varint());
        const askQty = unzigzag(varint());
        const priceScale = Number((head >> 2n) & 31n);
        const qtyScale = Number((head >> 7n) & 31n);
        this.ticks.set(symbol, {
          flags,
          priceScale,
          qtyScale,
          time,
          updateId,
          bid,
          ask,
          last,
          bidQty,
          askQty,
        });
      }
    }
    if (at !== frame.length) throw new Error('a tail: this check sends klines and ticks only');
  }
}

/** The mask-bit table of protocol.md, field by field. */
function resolve(
  openTime: bigint,
  sentAt: bigint,
  w: Map<number, bigint>,
  base: WireBar | undefined,
): WireBar {
  const value = (bit: number, reference: bigint): bigint => {
    const d = w.get(bit);
    return d === undefined ? reference : plus(reference, d);
  };
  const flags = Number(w.get(11) ?? BigInt(base?.flags ?? 0));
  const scales = [15, 16, 17].map((bit, i) => Number(w.get(bit) ?? BigInt(base?.scales[i] ?? 0)));
  const same = (group: number): boolean => base !== undefined && base.scales[group] === scales[group];
  const open = value(13, same(0) ? (base?.prices[0] ?? 0n) : 0n);
  const priceRefs = same(0) && base !== undefined ? base.prices : [0n, open, open, open];
  const prices = [13, 8, 9, 3].map((bit, i) => value(bit, priceRefs[i] ?? 0n));
  const volumeRefs = same(1) && base !== undefined ? base.volumes : [0n, 0n];
  const volumes = [4, 6].map((bit, i) => value(bit, volumeRefs[i] ?? 0n));
  const quoteRefs = same(2) && base !== undefined ? base.quotes : [0n, 0n];
  const quotes = [5, 7].map((bit, i) => value(bit, quoteRefs[i] ?? 0n));
  const trades = value(2, base?.trades ?? 0n) & MASK64;
  const firstReference = base !== undefined && (base.flags & 2) !== 0 ? base.firstTradeId : 0n;
  const firstTradeId = (flags & 2) !== 0 ? value(12, firstReference) & MASK64 : 0n;
  const lastReference = (firstTradeId + trades - 1n) & MASK64;
  const lastTradeId = (flags & 4) !== 0 ? value(10, signed(lastReference)) & MASK64 : 0n;
  const asOf = w.has(1) ? plus(sentAt, w.get(1) ?? 0n) : 0n;
  return {
    openTime,
    closeTime: value(14, base?.closeTime ?? openTime),
    asOf,
    trades,
    firstTradeId,
    lastTradeId,
    prices,
    volumes,
    quotes,
    scales,
    flags,
  };
}

/** `mantissa × 10^-scale` as the native book prints it. */
function decimal(mantissa: bigint, scale: number): string {
  const digits = (mantissa < 0n ? -mantissa : mantissa).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return mantissa < 0n ? `-${text}` : text;
}

/** A kline_1m event of `symbol` whose bar has `trades` trades and a price walked by `step`. */
function klineEvent(symbol: number, minute: number, trades: number, step: number): Buffer {
  const price = (50_000 + symbol * 7 + step) / 10;
  const name = SYMBOLS[symbol] ?? '';
  const t = T0 + minute * 60_000;
  const k = {
    t,
    T: t + 59_999,
    s: name,
    i: '1m',
    f: 1_000 + minute * 100,
    L: 1_000 + minute * 100 + trades - 1,
    o: ((50_000 + symbol * 7) / 10).toFixed(1),
    // Now and then a close with one more decimal: the price group's scale changes between rows.
    c: price.toFixed((symbol + trades) % 5 === 0 ? 2 : 1),
    h: (price + 1).toFixed(1),
    l: ((50_000 + symbol * 7) / 10 - 1).toFixed(1),
    v: (trades * 0.013).toFixed(3),
    n: trades,
    x: false,
    q: (trades * 65.0123).toFixed(4),
    V: (trades * 0.005).toFixed(3),
    Q: (trades * 25.0071).toFixed(4),
    B: '0',
  };
  const data = { e: 'kline', E: t + trades * 100, s: name, k };
  return Buffer.from(JSON.stringify({ stream: `${name.toLowerCase()}@kline_1m`, data }));
}

/** A bookTicker event of `symbol`, its decimals' count varying with `step` (scales change between rows). */
function bookTickerEvent(symbol: number, step: number): Buffer {
  const name = SYMBOLS[symbol] ?? '';
  const bid = (50_000 + symbol * 7 + step) / 10;
  const data = {
    e: 'bookTicker',
    u: 400_900_000_000 + step * 13 + symbol,
    s: name,
    b: bid.toFixed(step % 4 === 0 ? 2 : 1),
    B: (step * 0.25 + 1).toFixed(3),
    a: (bid + 0.1 * (1 + (step % 3))).toFixed(1),
    A: (symbol + 0.5).toFixed(step % 2 === 0 ? 1 : 4),
    T: T0 + step * 100 + symbol,
    E: T0 + step * 100 + symbol + 2,
  };
  return Buffer.from(JSON.stringify({ stream: `${name.toLowerCase()}@bookTicker`, data }));
}

describe('compact Delta frames read from the protocol alone', () => {
  it('decode to the mantissas, scales, counts and times the native trader book holds', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(STREAM, {}, 2);
    const book = new TraderBook();
    const snapshot = hub.topicSnapshotFrames(STREAM, T0);
    for (const chunk of snapshot) book.apply(chunk);
    const reader = new CompactReader();
    reader.turn = BigInt(hub.turn);
    const encoder = new IngestEncoder(SYMBOLS);
    let frames = 0;
    for (let minute = 0; minute < 3; minute++) {
      for (let trades = 1; trades <= 30; trades++) {
        const events = SYMBOLS.map((_, s) => klineEvent(s, minute, trades, (trades * (s + 3)) % 17));
        // One symbol an update, then all of them in one frame: both row densities.
        const batches = trades % 2 === 0 ? [events] : events.map((e) => [e]);
        for (const batch of batches) {
          encoder.pushMarketEvents(batch);
          const now = T0 + minute * 60_000 + trades * 100 + 7;
          const ingest = encoder.takeFrame(1, now);
          if (ingest === null) throw new Error(`minute ${minute}, ${trades} trades: nothing encoded`);
          const frame = hub.ingestTurn([ingest], [1], now).frames[0]?.frame;
          if (frame === undefined) throw new Error('no frame');
          expect(book.apply(frame).kind).toBe('applied');
          reader.apply(frame);
          frames += 1;
        }
      }
    }
    expect(frames).toBeGreaterThan(500);
    expect(reader.mismatches).toBe(0);
    let compared = 0;
    for (const [id, { bar }] of reader.bars) {
      const [symbol] = id.split(':').map(Number);
      const native = book.klines(symbol ?? -1, '1m').find((k) => BigInt(k.openTime) === bar.openTime);
      expect(native, id).toBeDefined();
      const [ps = 0, vs = 0, qs = 0] = bar.scales;
      expect({
        open: native?.open,
        high: native?.high,
        low: native?.low,
        close: native?.close,
        volume: native?.volume,
        takerBuyVolume: native?.takerBuyVolume,
        quoteVolume: native?.quoteVolume,
        takerBuyQuoteVolume: native?.takerBuyQuoteVolume,
        trades: native?.trades,
        closeTime: native?.closeTime,
        asOf: native?.asOf,
        firstTradeId: native?.firstTradeId,
        lastTradeId: native?.lastTradeId,
      }).toEqual({
        open: decimal(bar.prices[0] ?? 0n, ps),
        high: decimal(bar.prices[1] ?? 0n, ps),
        low: decimal(bar.prices[2] ?? 0n, ps),
        close: decimal(bar.prices[3] ?? 0n, ps),
        volume: decimal(bar.volumes[0] ?? 0n, vs),
        takerBuyVolume: decimal(bar.volumes[1] ?? 0n, vs),
        quoteVolume: decimal(bar.quotes[0] ?? 0n, qs),
        takerBuyQuoteVolume: decimal(bar.quotes[1] ?? 0n, qs),
        trades: Number(bar.trades),
        closeTime: Number(bar.closeTime),
        asOf: Number(bar.asOf),
        firstTradeId: Number(bar.firstTradeId),
        lastTradeId: Number(bar.lastTradeId),
      });
      compared += 1;
    }
    expect(compared).toBe(SYMBOLS.length * 3);
  });

  it('decode wire-3 tick rows to the mantissas, scales, times and ids the native trader book holds', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(STREAM, {}, 3);
    const book = new TraderBook();
    for (const chunk of hub.topicSnapshotFrames(STREAM, T0)) book.apply(chunk);
    const reader = new CompactReader();
    reader.turn = BigInt(hub.turn);
    const encoder = new IngestEncoder(SYMBOLS);
    let frames = 0;
    for (let step = 1; step <= 60; step++) {
      const quotes = SYMBOLS.map((_, s) => bookTickerEvent(s, step));
      const bars = SYMBOLS.map((_, s) => klineEvent(s, 0, step, step % 11));
      // Quotes alone, one symbol a frame; then quotes and bars of every symbol in one frame.
      const batches = step % 2 === 0 ? [[...quotes, ...bars]] : quotes.map((q) => [q]);
      for (const batch of batches) {
        encoder.pushMarketEvents(batch);
        const now = T0 + step * 100 + 50;
        const ingest = encoder.takeFrame(1, now);
        if (ingest === null) throw new Error(`step ${step}: nothing encoded`);
        const frame = hub.ingestTurn([ingest], [1], now).frames[0]?.frame;
        if (frame === undefined) throw new Error('no frame');
        expect(frame[0]).toBe(0xd3);
        expect(book.apply(frame).kind).toBe('applied');
        reader.apply(frame);
        frames += 1;
      }
    }
    expect(frames).toBeGreaterThan(300);
    expect(reader.mismatches).toBe(0);
    expect(reader.ticks.size).toBe(SYMBOLS.length);
    for (const [symbol, t] of reader.ticks) {
      expect(book.tick(symbol), `symbol ${symbol}`).toEqual({
        bid: decimal(t.bid, t.priceScale),
        bidQty: decimal(t.bidQty, t.qtyScale),
        ask: decimal(t.ask, t.priceScale),
        askQty: decimal(t.askQty, t.qtyScale),
        ...((t.flags & 1) !== 0 ? { last: decimal(t.last, t.priceScale) } : {}),
        time: Number(t.time),
        ...((t.flags & 2) !== 0 ? { updateId: Number(t.updateId) } : {}),
      });
    }
    for (const [id, { bar }] of reader.bars) {
      const [symbol] = id.split(':').map(Number);
      const native = book.klines(symbol ?? -1, '1m').find((k) => BigInt(k.openTime) === bar.openTime);
      expect(native?.trades, id).toBe(Number(bar.trades));
      expect(native?.close, id).toBe(decimal(bar.prices[3] ?? 0n, bar.scales[0] ?? 0));
    }
  });
});
