// When a live trader reports a bar closed: when the book marks it final, never earlier on a newer bar or this machine's clock.
import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import type { Kline } from '../../ts/native/records.js';
import { TraderBook } from '../../ts/native/trader-book.js';
import { BookBarWatcher } from './book-market-data.js';

const T0 = 1_778_198_400_000;
const MIN = 60_000;
const STREAM = 3;
const SYMBOLS = ['BTCUSDT'];

function bar(i: number, close: string, closed: boolean, trades = 3): Kline {
  return {
    openTime: T0 + i * MIN,
    closeTime: T0 + i * MIN + MIN - 1,
    open: '100.0',
    high: '110.0',
    low: '90.0',
    close,
    volume: '10',
    quoteVolume: '1000.00',
    trades,
    takerBuyVolume: '5',
    takerBuyQuoteVolume: '500.00',
    closed,
    asOf: T0 + i * MIN + 1_000 * trades,
  };
}

/** A hub, a collector and a trader's book fed from the hub's Delta frames. */
function rig() {
  const hub = new HubBook({ klineWindow: 10, symbols: SYMBOLS });
  const collector = new IngestEncoder(SYMBOLS);
  const book = new TraderBook(10);
  let seq = 0;
  book.apply(hub.snapshotFrame(STREAM, seq, 0));
  const send = (fill: (e: IngestEncoder) => void) => {
    fill(collector);
    hub.ingest(collector.takeFrame(1, 0) as Buffer, 1, Date.now());
    seq += 1;
    const frame = hub.takeDeltaFrame(STREAM, seq, 0);
    if (frame !== null) book.apply(frame);
    else seq -= 1;
  };
  const watcher = new BookBarWatcher(book, { symbolId: () => 0, symbols: () => SYMBOLS });
  return {
    book,
    watcher,
    klines: (bars: Kline[]) => send((e) => e.pushKlines(0, '1m', bars)),
    tick: (time: number) =>
      send((e) => e.pushTick(0, { bid: '99.9', bidQty: '1', ask: '100.1', askQty: '1', time })),
    closes: (now: number) => watcher.closed('BTCUSDT', '1m', now).map((b) => [b.openTime, b.close]),
  };
}

describe('BookBarWatcher', () => {
  it('reports a bar as soon as the book marks it closed, and history never', () => {
    const r = rig();
    r.klines([bar(0, '101.0', true), bar(1, '102.0', false)]);
    expect(r.closes(T0)).toEqual([]); // the first scan marks where it starts
    expect(r.closes(T0 + MIN + 30_000)).toEqual([]);
    r.klines([bar(1, '103.0', true)]);
    // No grace, no newer bar needed: the closed flag is the book's final word.
    expect(r.closes(T0 + MIN + 30_000)).toEqual([[T0 + MIN, 103]]);
    expect(r.book.klineSeries(0, '1m')?.values('closed')[1]).toBe(1);
    expect(r.closes(T0 + 10 * MIN)).toEqual([]);
  });

  it('reports no history that arrives after a first scan that found only the open bar', () => {
    const r = rig();
    // At a start the stream's open bar can be in before the REST poller's history.
    r.klines([bar(30, '101.0', false)]);
    expect(r.closes(T0 + 30 * MIN + 10_000)).toEqual([]);
    r.klines([bar(27, '98.0', true), bar(28, '99.0', true), bar(29, '100.0', true)]);
    expect(r.closes(T0 + 30 * MIN + 20_000)).toEqual([]);
    // The open bar closing is a fresh close.
    r.klines([bar(30, '101.5', true)]);
    expect(r.closes(T0 + 31 * MIN)).toEqual([[T0 + 30 * MIN, 101.5]]);
  });

  it('waits for the final update of a bar a newer one overtook, whatever the local clock says', () => {
    const r = rig();
    r.klines([bar(0, '101.0', true)]);
    r.closes(T0);
    // Minute 1 still misses its last trades when a source already sends minute 2.
    r.klines([bar(1, '102.0', false, 2), bar(2, '104.0', false, 1)]);
    r.tick(T0 + 2 * MIN + 500);
    // This machine's clock is a minute ahead of the exchange: still not final.
    expect(r.closes(T0 + 3 * MIN)).toEqual([]);
    r.klines([bar(1, '102.5', true, 3)]);
    expect(r.closes(T0 + 3 * MIN)).toEqual([[T0 + MIN, 102.5]]);
  });

  it('takes an overtaken bar as final after the grace in exchange time, when its update never comes', () => {
    const r = rig();
    r.klines([bar(0, '101.0', true)]);
    r.closes(T0);
    r.klines([bar(1, '102.0', false, 2), bar(2, '104.0', false, 1)]);
    r.tick(T0 + 2 * MIN + 1_999);
    expect(r.closes(T0)).toEqual([]);
    r.tick(T0 + 2 * MIN + 2_001);
    // The local clock is behind: the exchange's time is what counts.
    expect(r.closes(T0)).toEqual([[T0 + MIN, 102]]);
    // The newest bar is never taken as final on time alone.
    r.tick(T0 + 5 * MIN);
    expect(r.closes(T0 + 5 * MIN)).toEqual([]);
  });
});
