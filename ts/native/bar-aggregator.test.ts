import { describe, expect, it } from 'vitest';
import { BarAggregator } from './bar-aggregator.js';
import { captureMessages } from './testing/capture.js';

const trade = (id: number, price: string, qty: string, f: number, l: number, t: number, m: boolean): Buffer =>
  Buffer.from(JSON.stringify({ e: 'aggTrade', E: t, a: id, s: 'BTCUSDT', p: price, q: qty, f, l, T: t, m }));

const T0 = 1778198400000;

describe('bar aggregator', () => {
  it('builds exact bars, fills empty ones and counts duplicates, late trades and gaps', () => {
    const agg = new BarAggregator('BTCUSDT', ['1m', '5m']);
    const first = agg.pushMessages([
      trade(10, '100.5', '2.0', 100, 101, T0 + 20, false),
      trade(11, '101.0', '1.5', 102, 102, T0 + 30_000, true),
      trade(11, '101.0', '1.5', 102, 102, T0 + 30_000, true),
      trade(9, '99.0', '1.0', 90, 90, T0 + 30_001, true),
      Buffer.from('{"e":"aggTrade",'),
    ]);
    expect(first).toMatchObject({ accepted: 2, duplicates: 1, late: 1, closed: [], gaps: [] });
    expect(first.rejected.map((r) => [r.index, r.code])).toEqual([[4, 'truncated']]);
    expect(agg.openBar('1m')).toMatchObject({
      aggTrades: 2,
      vwap: '100.71428571',
      sellVolume: '1.5',
      kline: { open: '100.5', close: '101.0', volume: '3.5', quoteVolume: '352.50', trades: 3 },
    });
    // Id 12 never arrives: reported, and the trade still counts. Minutes 1 and 2 are empty bars.
    const second = agg.pushMessages([trade(13, '99.9', '0.5', 104, 106, T0 + 180_000, false)]);
    expect(second.gaps).toEqual([{ firstMissing: 12, lastMissing: 12 }]);
    expect(second.closed.map((b) => [b.interval, b.kline.openTime, b.kline.close, b.kline.trades])).toEqual([
      ['1m', T0, '101.0', 3],
      ['1m', T0 + 60_000, '101.0', 0],
      ['1m', T0 + 120_000, '101.0', 0],
    ]);
    expect(second.closed[1]?.vwap).toBeUndefined();
    // A batch that closes nothing lists nothing (the last batch's lists do not carry over).
    const third = agg.pushMessages([trade(14, '99.8', '0.5', 107, 107, T0 + 180_500, true)]);
    expect(third).toEqual({ closed: [], gaps: [], rejected: [], accepted: 1, duplicates: 0, late: 0 });
    expect(agg.advanceTo(T0 + 300_000).map((b) => [b.interval, b.kline.openTime, b.kline.trades])).toEqual([
      ['1m', T0 + 180_000, 4],
      ['1m', T0 + 240_000, 0],
      ['5m', T0, 7],
    ]);
    expect(agg.stats()).toMatchObject({ accepted: 4, duplicates: 1, late: 1, gaps: 1, missingIds: 1 });
  });

  it("reproduces the exchange's own klines from the real capture", () => {
    const messages = captureMessages('aggregator capture');
    if (messages === undefined) return;
    // The kline and aggTrade streams interleave freely, so pair them by trade id, not arrival:
    // per symbol, feed trades up to the one whose last id is the kline update's L, then compare.
    type Trade = { text: string; f: number; l: number; T: number };
    type KlineUpdate = { [key: string]: string | number | boolean };
    const trades = new Map<string, Trade[]>();
    const klines = new Map<string, KlineUpdate[]>();
    for (const text of messages) {
      const data = JSON.parse(text).data;
      if (data.e === 'aggTrade') {
        trades.set(data.s, [...(trades.get(data.s) ?? []), { text, f: data.f, l: data.l, T: data.T }]);
      } else if (data.e === 'kline') {
        klines.set(data.s, [...(klines.get(data.s) ?? []), data.k]);
      }
    }
    let compared = 0;
    for (const [symbol, updates] of klines) {
      const symbolTrades = trades.get(symbol) ?? [];
      const agg = new BarAggregator(symbol, ['1m']);
      let fed = 0;
      const sorted = [...updates].sort((a, b) => Number(a.L) - Number(b.L));
      for (const k of sorted) {
        const end = symbolTrades.findIndex((t) => t.l === k.L);
        // Comparable: the aggregator sees this bar from its first trade (the capture starts mid-minute).
        const firstOfBar = symbolTrades.find((t) => Math.floor(t.T / 60_000) * 60_000 === k.t);
        if (end < 0 || firstOfBar?.f !== k.f) continue;
        for (; fed <= end; fed++) {
          agg.pushMessages([Buffer.from(symbolTrades[fed]?.text ?? '')]);
        }
        expect(agg.openBar('1m')?.kline).toMatchObject({
          openTime: k.t,
          closeTime: k.T,
          open: k.o,
          high: k.h,
          low: k.l,
          close: k.c,
          volume: k.v,
          quoteVolume: k.q,
          trades: k.n,
          takerBuyVolume: k.V,
          takerBuyQuoteVolume: k.Q,
          firstTradeId: k.f,
          lastTradeId: k.L,
        });
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });
});
