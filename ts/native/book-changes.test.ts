import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from './hub.js';
import type { IntervalName } from './interval.js';
import type { Kline } from './records.js';
import { TraderBook } from './trader-book.js';

const T0 = 1778198400000;
/** The USD-M universe's size: 600 symbols. */
const SYMBOLS = Array.from({ length: 600 }, (_, i) => `S${i}USDT`);
const INTERVALS: IntervalName[] = ['1m', '15m'];

function bar(openTime: number, trades: number): Kline {
  return {
    openTime,
    closeTime: openTime + 59_999,
    open: '7.6110',
    high: '9.0000',
    low: '7.0000',
    close: `8.${trades}`,
    volume: `${100 + trades}`,
    quoteVolume: '761.1000',
    trades,
    takerBuyVolume: '40',
    takerBuyQuoteVolume: '304.4400',
    closed: false,
    asOf: 0,
  };
}

/** A hub over the universe with one wire-2 topic of everything, a collector and a trader in sync. */
function universe() {
  const hub = new HubBook({ symbols: SYMBOLS });
  const collector = new IngestEncoder(SYMBOLS);
  hub.addTopic(1, {}, 2);
  const turn = (now: number): Buffer => {
    const frames = hub.ingestTurn([collector.takeFrame(1, now) as Buffer], [1], now).frames;
    const frame = frames[0]?.frame;
    if (frame === undefined) throw new Error('no frame');
    return frame;
  };
  return { hub, collector, turn };
}

describe('book changes', () => {
  it("name each bar, quote and balance a compact frame wrote, with the bar's row", () => {
    const { hub, collector, turn } = universe();
    collector.pushKlines(3, '1m', [bar(T0, 1)]);
    turn(T0 + 1_000);
    const book = new TraderBook(3);
    for (const chunk of hub.topicSnapshotFrames(1, T0)) book.apply(chunk);
    expect(book.changes.hadSnapshot).toBe(true);
    // A snapshot carries the ban list too.
    expect([...book.changes]).toEqual([
      { kind: 'kline', symbolId: 3, interval: '1m', openTime: T0, row: 0 },
      { kind: 'banList' },
    ]);

    // Views of entities the book does not hold yet are missing (asked twice: the second answer
    // comes from the facade) until an apply creates them.
    for (let i = 0; i < 2; i++) {
      expect(book.tickValues(42)).toBeUndefined();
      expect(book.klineSeries(599, '15m')).toBeUndefined();
    }
    collector.pushKlines(3, '1m', [bar(T0, 5), bar(T0 + 60_000, 2)]);
    collector.pushKlines(599, '15m', [bar(T0, 9)]);
    collector.pushTick(42, {
      bid: '1.5',
      bidQty: '2',
      ask: '1.6',
      askQty: '3',
      time: T0,
      updateId: 987_654_321_012,
    });
    collector.pushBalance({ asset: 'USDT', walletBalance: '1000.50', updateTime: T0 });
    const result = book.applyMany([turn(T0 + 61_000)]);
    expect(result.applied).toBe(1);
    const changes = result.changes;
    expect(changes).toBe(book.changes);
    expect(changes.hadSnapshot).toBe(false);
    expect(changes.length).toBe(5);
    expect([...changes]).toEqual([
      { kind: 'kline', symbolId: 3, interval: '1m', openTime: T0, row: 0 },
      { kind: 'kline', symbolId: 3, interval: '1m', openTime: T0 + 60_000, row: 1 },
      { kind: 'kline', symbolId: 599, interval: '15m', openTime: T0, row: 0 },
      { kind: 'tick', symbolId: 42 },
      { kind: 'balance', asset: 'USDT' },
    ]);
    // By index, without objects: a row leads to the bar in the live columns.
    const series = book.klineSeries(3, '1m');
    expect(changes.kind(1)).toBe('kline');
    expect(series?.column('trades')[changes.row(1) ?? -1]).toBe(2);
    expect(series?.column('trades')[changes.row(0) ?? -1]).toBe(5);
    expect(changes.symbolId(3)).toBe(42);
    expect(changes.interval(3)).toBeUndefined();
    expect(book.tickValues(42)?.[6]).toBe(987_654_321_012);
    expect(book.klineSeries(599, '15m')?.length).toBe(1);
    expect(book.markValues(42)).toBeUndefined();
    // Past the end: nothing, never a stale entry.
    expect(changes.kind(5)).toBeUndefined();
    expect(changes.at(5)).toBeUndefined();
    expect(changes.symbolId(-1)).toBeUndefined();

    // A newer bar shifts the window of 3: the rows move, and a bar shifted out has none.
    collector.pushKlines(3, '1m', [bar(T0 + 120_000, 1), bar(T0 + 180_000, 1)]);
    const frame = turn(T0 + 181_000);
    book.applyMany([frame]);
    expect([...book.changes].map((c) => (c.kind === 'kline' ? [c.openTime - T0, c.row] : c.kind))).toEqual([
      [120_000, 1],
      [180_000, 2],
    ]);
    // A frame applied again (a duplicate) changes nothing, and the list says so.
    expect(book.applyMany([frame]).duplicates).toBe(1);
    expect(book.changes.length).toBe(0);
    expect([...book.changes]).toEqual([]);
  });

  it('read a batch past the live area whole: a snapshot of the universe', () => {
    const { hub, collector, turn } = universe();
    for (let symbol = 0; symbol < SYMBOLS.length; symbol++) {
      for (const interval of INTERVALS) collector.pushKlines(symbol, interval, [bar(T0, 1 + symbol)]);
      collector.pushTick(symbol, { bid: '1.5', bidQty: '2', ask: '1.6', askQty: '3', time: T0 + symbol });
    }
    turn(T0 + 1_000);
    const book = new TraderBook();
    for (const chunk of hub.topicSnapshotFrames(1, T0)) book.apply(chunk);
    // 1,200 series, 600 quotes and the ban list, in one chunk or several: the last chunk
    // applies them all.
    const changes = book.changes;
    expect(changes.hadSnapshot).toBe(true);
    expect(changes.length).toBe(1_801);
    const all = [...changes];
    expect(all.filter((c) => c.kind === 'kline')).toHaveLength(1_200);
    expect(all.filter((c) => c.kind === 'tick')).toHaveLength(600);
    // Past 4,096 changes (three snapshots in one batch) the list is read whole from the book.
    const chunks = hub.topicSnapshotFrames(1, T0);
    // The same snapshot again is not older than what the stream holds (equal seq): each applies.
    book.applyMany([...chunks, ...chunks, ...chunks]);
    expect(book.changes.length).toBe(5_403);
    expect(book.changes.at(5_402)?.kind).toBe('banList');
    expect(book.changes.at(5_401)).toEqual({ kind: 'tick', symbolId: 599 });
    const kline = [...book.changes].find(
      (c) => c.kind === 'kline' && c.symbolId === 599 && c.interval === '15m',
    );
    expect(kline).toMatchObject({ openTime: T0, row: 0 });
    expect(book.klineSeries(599, '15m')?.column('trades')[0]).toBe(600);
  });
});
