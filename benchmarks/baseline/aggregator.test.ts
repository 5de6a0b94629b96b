import { describe, expect, it } from 'vitest';
import { BarAggregator, type BarObject } from '../../ts/native/bar-aggregator.js';
import { captureMessages } from '../../ts/native/testing/capture.js';
import { type JsBar, JsBarAggregator } from './aggregator.js';
import type { JsIntervalName } from './interval.js';

const T0 = 1778198400000;

/**
 * Compares bars field by field: times, prices, counts and ids exactly; the sums within 1e-9 of
 * the native exact sums (the baseline adds doubles, the native core adds exact decimals); vwap
 * within the native's rounding to 8 decimals.
 */
function expectSameBars(js: JsBar[], native: BarObject[], context: string): void {
  expect(
    js.map((b) => [b.interval, b.openTime]),
    context,
  ).toEqual(native.map((b) => [b.interval, b.kline.openTime]));
  native.forEach((n, i) => {
    const bar = js[i];
    const k = n.kline;
    const where = `${context}: ${n.interval} bar at ${k.openTime}`;
    expect(bar, where).toMatchObject({
      closeTime: k.closeTime,
      open: Number(k.open),
      high: Number(k.high),
      low: Number(k.low),
      close: Number(k.close),
      trades: k.trades,
      firstTradeId: k.firstTradeId ?? null,
      lastTradeId: k.lastTradeId ?? null,
      closed: k.closed,
      asOf: k.asOf,
      aggTrades: n.aggTrades,
    });
    const sums: [string, number | undefined, string | undefined][] = [
      ['volume', bar?.volume, k.volume],
      ['quoteVolume', bar?.quoteVolume, k.quoteVolume],
      ['takerBuyVolume', bar?.takerBuyVolume, k.takerBuyVolume],
      ['takerBuyQuoteVolume', bar?.takerBuyQuoteVolume, k.takerBuyQuoteVolume],
      ['sellVolume', bar?.sellVolume, n.sellVolume],
      ['sellQuoteVolume', bar?.sellQuoteVolume, n.sellQuoteVolume],
    ];
    for (const [field, value, exact] of sums) {
      const expected = Number(exact);
      expect(Math.abs((value ?? Number.NaN) - expected), `${where} ${field}`).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(expected)),
      );
    }
    if (n.vwap === undefined) expect(bar?.vwap, `${where} vwap`).toBeNull();
    else
      expect(Math.abs((bar?.vwap ?? Number.NaN) - Number(n.vwap)), `${where} vwap`).toBeLessThanOrEqual(6e-9);
  });
}

/** One aggregator per path, fed the same messages one at a time. */
class BothAggregators {
  readonly js: JsBarAggregator;
  readonly native: BarAggregator;
  /** Bars closed so far per interval. */
  readonly closed = new Map<JsIntervalName, number>();

  constructor(symbol: string, intervals?: JsIntervalName[]) {
    this.js = new JsBarAggregator(symbol, intervals);
    this.native = new BarAggregator(symbol, intervals);
  }

  push(message: string): void {
    const result = this.native.pushMessages([Buffer.from(message)]);
    if (result.rejected.length > 0) {
      expect(() => this.js.pushMessage(message)).toThrow();
      return;
    }
    const closed = this.js.pushMessage(message);
    expectSameBars(closed, result.closed, message);
    this.#count(closed);
  }

  advanceTo(nowMs: number): void {
    const closed = this.js.advanceTo(nowMs);
    expectSameBars(closed, this.native.advanceTo(nowMs), `advanceTo ${nowMs}`);
    this.#count(closed);
  }

  expectSameState(intervals: JsIntervalName[]): void {
    for (const interval of intervals) {
      const native = this.native.openBar(interval);
      const js = this.js.openBar(interval);
      expectSameBars(js === undefined ? [] : [js], native === null ? [] : [native], `open ${interval}`);
    }
    expect(this.js.stats()).toEqual(this.native.stats());
  }

  #count(bars: JsBar[]): void {
    for (const bar of bars) this.closed.set(bar.interval, (this.closed.get(bar.interval) ?? 0) + 1);
  }
}

const trade = (id: number, price: string, qty: string, f: number, l: number, t: number, m: boolean): string =>
  JSON.stringify({ e: 'aggTrade', E: t + 7, a: id, s: 'BTCUSDT', p: price, q: qty, f, l, T: t, m });

describe('JsBarAggregator does the work of the native aggregator', () => {
  it('builds the same bars, empty bars, drops and gaps on synthetic trades', () => {
    const both = new BothAggregators('BTCUSDT', ['1m', '5m']);
    for (const message of [
      trade(10, '100.5', '2.0', 100, 101, T0 + 20, false),
      trade(11, '101.0', '1.5', 102, 102, T0 + 30_000, true),
      trade(11, '101.0', '1.5', 102, 102, T0 + 30_000, true),
      trade(9, '99.0', '1.0', 90, 90, T0 + 30_001, true),
      // Id 12 never arrives; minutes 1 and 2 are empty bars.
      trade(13, '99.9', '0.5', 104, 106, T0 + 180_000, false),
      // A time before the current bar counts in it (closed bars are final).
      trade(14, '99.7', '0.25', 107, 107, T0 + 170_000, false),
      JSON.stringify({
        stream: 'btcusdt@aggTrade',
        data: JSON.parse(trade(15, '98', '3', 108, 110, T0 + 181_000, true)),
      }),
      trade(16, '98', '3', 111, 111, T0 + 181_000, true).replace('BTCUSDT', 'ETHUSDT'),
    ]) {
      both.push(message);
    }
    both.advanceTo(T0 + 600_000);
    both.expectSameState(['1m', '5m']);
    expect([...both.closed]).toEqual([
      ['1m', 10],
      ['5m', 2],
    ]);
    expect(both.js.gaps).toEqual([{ firstMissing: 12, lastMissing: 12 }]);
    expect(both.js.stats()).toMatchObject({
      accepted: 5,
      duplicates: 1,
      late: 1,
      gaps: 1,
      outOfWindow: 1,
      rejected: 1,
    });
    expect(both.js.openBar('1m')).toMatchObject({
      openTime: T0 + 600_000,
      close: 98,
      volume: 0,
      aggTrades: 0,
    });
  });

  it('builds the same bars of every interval from the real capture', () => {
    const messages = captureMessages('JsBarAggregator capture');
    if (messages === undefined) return;
    const bySymbol = new Map<string, string[]>();
    let last = 0;
    for (const message of messages) {
      if (!message.includes('"e":"aggTrade"')) continue;
      const data: unknown = JSON.parse(message).data;
      if (typeof data !== 'object' || data === null || !('s' in data) || !('T' in data)) continue;
      const symbol = String(data.s);
      bySymbol.set(symbol, [...(bySymbol.get(symbol) ?? []), message]);
      last = Math.max(last, Number(data.T));
    }
    expect([...bySymbol.values()].reduce((n, list) => n + list.length, 0)).toBe(91);
    const intervals: JsIntervalName[] = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '8h', '12h', '1d'];
    const nextMidnight = Math.floor(last / 86_400_000) * 86_400_000 + 86_400_000;
    for (const [symbol, trades] of bySymbol) {
      const both = new BothAggregators(symbol);
      for (const message of trades) both.push(message);
      both.expectSameState(intervals);
      // The capture crosses a minute boundary; the next UTC midnight closes a bar of every interval.
      expect(both.closed.get('1m'), symbol).toBeGreaterThan(0);
      both.advanceTo(nextMidnight);
      both.expectSameState(intervals);
      expect([...both.closed.keys()], symbol).toEqual(intervals);
    }
  });

  it('throws on malformed messages without counting them', () => {
    const agg = new JsBarAggregator('BTCUSDT', ['1m']);
    expect(() => agg.pushMessage('{"e":"aggTrade",')).toThrow(SyntaxError);
    expect(() => agg.pushMessage(trade(1, '-1', '1', 1, 1, T0, false))).toThrow(/must be positive/);
    expect(() => agg.pushMessage(trade(1, '1', '1', 5, 4, T0, false))).toThrow(/ids/);
    expect(() => new JsBarAggregator('BTCUSDT', ['1M'])).toThrow(/fixed length/);
    expect(agg.stats()).toMatchObject({ accepted: 0, rejected: 0 });
  });
});
