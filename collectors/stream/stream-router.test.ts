// The stream collector's frame sorting and the exchange event time it closes quiet bars by.
import { describe, expect, it } from 'vitest';
import { eventTime, newestEventTime, routeFrames } from './stream-router.js';

const frame = (stream: string, data: unknown) => Buffer.from(JSON.stringify({ stream, data }));

describe('stream router', () => {
  const trade = frame('btcusdt@aggTrade', { e: 'aggTrade', E: 1_700_000_000_123, s: 'BTCUSDT', a: 1 });
  const kline = frame('btcusdt@kline_1m', { e: 'kline', E: 1_700_000_000_456, s: 'BTCUSDT', k: {} });
  const marks = frame('!markPrice@arr@1s', [
    { e: 'markPriceUpdate', E: 1_700_000_001_000, s: 'BTCUSDT' },
    { e: 'markPriceUpdate', E: 1_700_000_001_000, s: 'ETHUSDT' },
  ]);

  it('reads the event time of objects and of arrays (their first element)', () => {
    expect(eventTime(trade)).toBe(1_700_000_000_123);
    expect(eventTime(kline)).toBe(1_700_000_000_456);
    expect(eventTime(marks)).toBe(1_700_000_001_000);
    expect(newestEventTime([kline, marks, trade])).toBe(1_700_000_001_000);
  });

  it('finds no event time where a frame has none near its start', () => {
    expect(eventTime(Buffer.from('{"result":null,"id":1}'))).toBeUndefined();
    expect(
      eventTime(Buffer.from('{"stream":"x@aggTrade","data":{"e":"aggTrade","E":"soon"}}')),
    ).toBeUndefined();
    const late = Buffer.from(`{"stream":"x@kline_1m","data":{"pad":"${'x'.repeat(200)}","E":5}}`);
    expect(eventTime(late)).toBeUndefined();
    expect(newestEventTime([])).toBeUndefined();
  });

  it('sorts aggTrades per symbol and the rest by kind', () => {
    const routed = routeFrames([trade, kline, marks, Buffer.from('{}')]);
    expect([...routed.aggTrades.keys()]).toEqual(['BTCUSDT']);
    expect(routed.mergeable).toEqual([kline]);
    expect(routed.markPrices).toEqual([marks]);
    expect(routed.unknown).toHaveLength(1);
  });
});
