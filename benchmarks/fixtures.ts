// Deterministic exchange message streams for the benchmarks: the same bytes for native and baseline.

/** A small seeded PRNG (mulberry32), so every run benchmarks the same inputs. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Symbols the streams use (the hub registry order: id = position). */
export const SYMBOLS = Array.from({ length: 40 }, (_, i) => `SYM${i}USDT`);

const T0 = 1778198400000;

/**
 * The hub's clock in the benchmarks: a day after the first fixture message, after every message's
 * exchange time (the hub refuses times more than its skew ahead of its clock).
 */
export const HUB_CLOCK = T0 + 86_400_000;

/** A price with one decimal from an integer number of ticks. */
const price = (ticks: number): string => (ticks / 10).toFixed(1);
/** A quantity with three decimals from an integer number of steps. */
const qty = (steps: number): string => (steps / 1000).toFixed(3);

/** `count` aggTrade messages of one symbol: ids and trade ids increase, ~20 trades a second. */
export function aggTradeStream(count: number, symbol = 'BTCUSDT'): Buffer[] {
  const rnd = seeded(1);
  let ticks = 800_000;
  let tradeId = 1_000_000;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    ticks += Math.round((rnd() - 0.5) * 6);
    const trades = 1 + Math.floor(rnd() * 4);
    const t = T0 + i * 50;
    const msg = {
      e: 'aggTrade',
      E: t + 3,
      a: 500_000 + i,
      s: symbol,
      p: price(ticks),
      q: qty(1 + Math.floor(rnd() * 2000)),
      f: tradeId,
      l: tradeId + trades - 1,
      T: t,
      m: rnd() < 0.5,
    };
    tradeId += trades;
    out.push(Buffer.from(JSON.stringify({ stream: `${symbol.toLowerCase()}@aggTrade`, data: msg })));
  }
  return out;
}

/**
 * `count` kline_1m messages over the symbols: each symbol's open bar grows by a few trades per
 * message (so every update is news), and a new bar opens every 60 s of event time.
 */
export function klineStream(count: number): Buffer[] {
  const rnd = seeded(2);
  const state = SYMBOLS.map(() => ({
    ticks: 500_000,
    open: 500_000,
    high: 500_000,
    low: 500_000,
    n: 0,
    v: 0,
    q: 0,
    V: 0,
    Q: 0,
    f: 1,
  }));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % SYMBOLS.length;
    const st = state[s];
    if (st === undefined) continue;
    const t = T0 + Math.floor(i / SYMBOLS.length) * 250;
    const openTime = Math.floor(t / 60_000) * 60_000;
    if (st.n > 0 && openTime !== Math.floor((t - 250) / 60_000) * 60_000) {
      Object.assign(st, {
        open: st.ticks,
        high: st.ticks,
        low: st.ticks,
        n: 0,
        v: 0,
        q: 0,
        V: 0,
        Q: 0,
        f: st.f + st.n,
      });
    }
    st.ticks += Math.round((rnd() - 0.5) * 8);
    st.high = Math.max(st.high, st.ticks);
    st.low = Math.min(st.low, st.ticks);
    const add = 1 + Math.floor(rnd() * 3);
    const steps = 1 + Math.floor(rnd() * 500);
    st.n += add;
    st.v += steps;
    st.q += steps * st.ticks;
    if (rnd() < 0.5) {
      st.V += steps;
      st.Q += steps * st.ticks;
    }
    const symbol = SYMBOLS[s] ?? '';
    const k = {
      t: openTime,
      T: openTime + 59_999,
      s: symbol,
      i: '1m',
      f: st.f,
      L: st.f + st.n - 1,
      o: price(st.open),
      c: price(st.ticks),
      h: price(st.high),
      l: price(st.low),
      v: qty(st.v),
      n: st.n,
      x: false,
      q: (st.q / 10_000).toFixed(4),
      V: qty(st.V),
      Q: (st.Q / 10_000).toFixed(4),
      B: '0',
    };
    out.push(
      Buffer.from(
        JSON.stringify({
          stream: `${symbol.toLowerCase()}@kline_1m`,
          data: { e: 'kline', E: t, s: symbol, k },
        }),
      ),
    );
  }
  return out;
}

/** `count` bookTicker messages over the symbols, times increasing per symbol. */
export function bookTickerStream(count: number): Buffer[] {
  const rnd = seeded(3);
  const ticks = SYMBOLS.map(() => 500_000);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % SYMBOLS.length;
    ticks[s] = (ticks[s] ?? 500_000) + Math.round((rnd() - 0.5) * 4);
    const bid = ticks[s] ?? 0;
    const t = T0 + i * 5;
    const symbol = SYMBOLS[s] ?? '';
    const msg = {
      e: 'bookTicker',
      u: 600_000_000 + i,
      s: symbol,
      b: price(bid),
      B: qty(1 + Math.floor(rnd() * 9000)),
      a: price(bid + 1),
      A: qty(1 + Math.floor(rnd() * 9000)),
      T: t,
      E: t + 4,
    };
    out.push(Buffer.from(JSON.stringify({ stream: `${symbol.toLowerCase()}@bookTicker`, data: msg })));
  }
  return out;
}

/** `count` ACCOUNT_UPDATE messages: one balance and two positions each, transaction times increasing. */
export function accountUpdateStream(count: number): Buffer[] {
  const rnd = seeded(4);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const t = T0 + i * 10;
    const s1 = SYMBOLS[i % SYMBOLS.length] ?? '';
    const s2 = SYMBOLS[(i + 7) % SYMBOLS.length] ?? '';
    const msg = {
      e: 'ACCOUNT_UPDATE',
      E: t + 1,
      T: t,
      a: {
        m: 'ORDER',
        B: [
          {
            a: 'USDT',
            wb: (10_000 + rnd() * 100).toFixed(8),
            cw: (10_000 + rnd() * 100).toFixed(8),
            bc: '0',
          },
        ],
        P: [
          {
            s: s1,
            pa: qty(Math.floor(rnd() * 5000)),
            ep: price(500_000),
            bep: price(500_010),
            cr: '0',
            up: (rnd() * 10).toFixed(8),
            mt: 'cross',
            iw: '0',
            ps: 'BOTH',
          },
          {
            s: s2,
            pa: qty(-Math.floor(rnd() * 5000)),
            ep: price(500_000),
            bep: price(499_990),
            cr: '0',
            up: (rnd() * 10).toFixed(8),
            mt: 'cross',
            iw: '0',
            ps: 'BOTH',
          },
        ],
      },
    };
    out.push(Buffer.from(JSON.stringify(msg)));
  }
  return out;
}

/**
 * `count` `GET /fapi/v1/klines?limit=45` bodies of one symbol, each one poll later than the last:
 * the newest bar has seen more trades, and a new bar opens every 12 polls.
 */
export function restKlinesBodies(count: number): { bodies: Buffer[]; serverTimes: number[] } {
  const rnd = seeded(5);
  const bodies: Buffer[] = [];
  const serverTimes: number[] = [];
  for (let i = 0; i < count; i++) {
    const now = T0 + 45 * 60_000 + i * 5_000;
    const newest = Math.floor(now / 60_000) * 60_000;
    const rows = [];
    for (let b = 44; b >= 0; b--) {
      const openTime = newest - b * 60_000;
      const o = 500_000 + ((openTime / 60_000) % 97);
      const n = b === 0 ? 1 + ((now - newest) / 5_000) * 3 : 300 + (openTime % 7);
      const v = n * 13;
      rows.push([
        openTime,
        price(o),
        price(o + 7),
        price(o - 5),
        price(o + 2),
        qty(v),
        openTime + 59_999,
        ((v * o) / 10_000).toFixed(4),
        n,
        qty(Math.floor(v / 2)),
        ((Math.floor(v / 2) * o) / 10_000).toFixed(4),
        '0',
      ]);
    }
    rnd();
    bodies.push(Buffer.from(JSON.stringify(rows)));
    serverTimes.push(now);
  }
  return { bodies, serverTimes };
}
