import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import type { Kline } from '../../ts/native/records.js';
import { TraderBook } from '../../ts/native/trader-book.js';
import { BookBarWatcher, BookMarketData, type SymbolDirectory } from './book-market-data.js';
import type { MarketEvent } from './events.js';
import { MarketEventScan } from './market-event-scan.js';

const T0 = 1778198400000;
/** The USD-M universe's size. */
const SYMBOLS = Array.from({ length: 600 }, (_, i) => `S${i}USDT`);
const DIRECTORY: SymbolDirectory = {
  symbolId: (name) => {
    const id = SYMBOLS.indexOf(name);
    return id < 0 ? undefined : id;
  },
  symbols: () => SYMBOLS,
};

/** A small deterministic generator (xorshift32). */
function random(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function bar(openTime: number, trades: number, close: string, closed: boolean): Kline {
  return {
    openTime,
    closeTime: openTime + 59_999,
    open: '10.0',
    high: '12.0',
    low: '9.0',
    close,
    volume: `${trades}`,
    quoteVolume: `${trades * 10}`,
    trades,
    takerBuyVolume: '0',
    takerBuyQuoteVolume: '0',
    closed,
    asOf: openTime,
  };
}

/** A scan over `book` that records its events and how many symbols it looked at. */
function recordingScan(book: TraderBook, follows: (symbol: string) => boolean) {
  const events: MarketEvent[] = [];
  let looked = 0;
  const scan = new MarketEventScan({
    directory: DIRECTORY,
    market: new BookMarketData(book, DIRECTORY),
    watcher: new BookBarWatcher(book, DIRECTORY, 2_000),
    requirements: { ticks: true, intervals: ['1m'] },
    follows: (symbol) => {
      looked += 1;
      return follows(symbol);
    },
    push: (event) => events.push(event),
  });
  return {
    scan,
    events,
    take: () => events.splice(0),
    looked: () => {
      const n = looked;
      looked = 0;
      return n;
    },
  };
}

describe('MarketEventScan', () => {
  it('after each frame, emits exactly what a scan of the whole universe would, looking only at the symbols the frame touched', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(1, {}, 2);
    const collector = new IngestEncoder(SYMBOLS);
    const book = new TraderBook();
    const next = random(7);
    // Every symbol opens a bar and quotes, then the frames change a few symbols each: trades, a
    // quote that moves the price and the exchange clock, a bar the exchange marks closed, a new
    // bar that closes the previous one by grace once the symbol's clock passes it.
    const open = new Map<number, { openTime: number; trades: number }>();
    const clock = new Map<number, number>();
    const turn = (now: number): Buffer | undefined => {
      const frame = collector.takeFrame(1, now);
      if (frame === null) return undefined;
      return hub.ingestTurn([frame], [1], now).frames[0]?.frame;
    };
    for (let id = 0; id < SYMBOLS.length; id++) {
      open.set(id, { openTime: T0, trades: 1 });
      clock.set(id, T0 + 1_000);
      collector.pushKlines(id, '1m', [bar(T0, 1, '10.0', false)]);
      collector.pushTick(id, {
        bid: '9.9',
        bidQty: '1',
        ask: '10.1',
        askQty: '1',
        time: T0 + 1_000,
        updateId: 1,
      });
    }
    turn(T0 + 1_000);
    for (const chunk of hub.topicSnapshotFrames(1, T0)) book.apply(chunk);
    const follows = (symbol: string) => !symbol.endsWith('7USDT');
    const byChanges = recordingScan(book, follows);
    const byUniverse = recordingScan(book, follows);
    // A fixed local clock: bars close by the symbols' own quote times only.
    const now = T0;
    byChanges.scan.all(now);
    byUniverse.scan.all(now);
    expect(byChanges.take()).toEqual(byUniverse.take());
    byChanges.looked();
    byUniverse.looked();
    let ticks = 0;
    let bars = 0;
    for (let frameIndex = 0; frameIndex < 400; frameIndex++) {
      for (let k = 0; k < 1 + next(12); k++) {
        const id = next(SYMBOLS.length);
        const state = open.get(id) ?? { openTime: T0, trades: 1 };
        const time = (clock.get(id) ?? T0) + 1 + next(90_000);
        clock.set(id, time);
        switch (next(4)) {
          case 0: {
            state.trades += 1;
            collector.pushKlines(id, '1m', [bar(state.openTime, state.trades, `10.${state.trades}`, false)]);
            break;
          }
          case 1: {
            const price = `${10 + next(50) / 10}`;
            collector.pushTick(id, {
              bid: price,
              bidQty: '1',
              ask: price,
              askQty: '1',
              last: price,
              time,
              updateId: time,
            });
            break;
          }
          case 2: {
            // The exchange's final update of the open bar, then a new one.
            state.trades += 1;
            collector.pushKlines(id, '1m', [bar(state.openTime, state.trades, '10.5', true)]);
            state.openTime += 60_000;
            state.trades = 1;
            collector.pushKlines(id, '1m', [bar(state.openTime, 1, '10.5', false)]);
            break;
          }
          default: {
            // A new bar without the final update of the previous one: closed by grace later.
            state.openTime += 60_000;
            state.trades = 1;
            collector.pushKlines(id, '1m', [bar(state.openTime, 1, '10.6', false)]);
          }
        }
        open.set(id, state);
      }
      const frame = turn(T0 + 2_000 + frameIndex);
      if (frame === undefined) continue;
      const result = book.applyMany([frame]);
      expect(result.issues).toEqual([]);
      byChanges.scan.changed(result.changes, now);
      byUniverse.scan.all(now);
      const events = byChanges.take();
      expect(events).toEqual(byUniverse.take());
      ticks += events.filter((e) => e.type === 'tick').length;
      bars += events.filter((e) => e.type === 'bar').length;
      // Looked at no more symbols than the frame changed entities, against the universe.
      expect(byChanges.looked()).toBeLessThanOrEqual(result.changes.length);
      expect(byUniverse.looked()).toBe(SYMBOLS.length);
    }
    // The run exercised both kinds of event, closed bars both ways.
    expect(ticks).toBeGreaterThan(100);
    expect(bars).toBeGreaterThan(100);
  });

  it('scans every followed symbol after a snapshot, and the timer finds bars closed by the local clock', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(1, {}, 2);
    const collector = new IngestEncoder(SYMBOLS);
    // Symbol 3 has bars but neither a quote nor a mark: only this machine's clock closes them.
    collector.pushKlines(3, '1m', [bar(T0, 1, '10.0', false)]);
    collector.pushKlines(4, '1m', [bar(T0, 1, '10.0', false)]);
    collector.pushTick(4, { bid: '9.9', bidQty: '1', ask: '10.1', askQty: '1', last: '10.0', time: T0 });
    const frame = collector.takeFrame(1, T0);
    if (frame === null) throw new Error('no frame');
    hub.ingestTurn([frame], [1], T0);
    const book = new TraderBook();
    const scan = recordingScan(book, () => true);
    scan.scan.all(T0);
    for (const chunk of hub.topicSnapshotFrames(1, T0)) book.apply(chunk);
    scan.scan.changed(book.changes, T0);
    expect(scan.looked()).toBe(SYMBOLS.length * 2);
    // Symbol 3's last price is its bar's close.
    expect(scan.take()).toEqual([
      { type: 'tick', symbol: 'S3USDT', price: 10, time: T0 },
      { type: 'tick', symbol: 'S4USDT', price: 10, time: T0 },
    ]);
    // A newer bar of symbol 3: its previous one closes by grace on this machine's clock.
    collector.pushKlines(3, '1m', [bar(T0 + 60_000, 1, '10.0', false)]);
    const next = collector.takeFrame(1, T0 + 60_000);
    if (next === null) throw new Error('no frame');
    const delta = hub.ingestTurn([next], [1], T0 + 60_000).frames[0]?.frame;
    if (delta === undefined) throw new Error('no delta');
    scan.scan.changed(book.applyMany([delta]).changes, T0 + 60_000);
    expect(scan.take()).toEqual([]);
    // Nothing else arrives for it; the runtime's timer scan finds the bar once the grace passed.
    scan.scan.all(T0 + 62_001);
    expect(scan.take()).toEqual([expect.objectContaining({ type: 'bar', symbol: 'S3USDT', openTime: T0 })]);
    // Symbol 4's new bar arrives while its quote time is still in the old bar: nothing closes. A
    // quote alone then moves its clock past the grace: that frame's changes close the old bar.
    const apply = (now: number) => {
      const ingest = collector.takeFrame(1, now);
      if (ingest === null) throw new Error('no frame');
      const out = hub.ingestTurn([ingest], [1], now).frames[0]?.frame;
      if (out === undefined) throw new Error('no delta');
      scan.scan.changed(book.applyMany([out]).changes, T0);
      return scan.take();
    };
    collector.pushKlines(4, '1m', [bar(T0 + 60_000, 1, '10.0', false)]);
    expect(apply(T0 + 60_000)).toEqual([]);
    collector.pushTick(4, {
      bid: '9.9',
      bidQty: '1',
      ask: '10.1',
      askQty: '1',
      last: '10.0',
      time: T0 + 62_000,
    });
    expect(apply(T0 + 62_000)).toEqual([
      expect.objectContaining({ type: 'bar', symbol: 'S4USDT', openTime: T0 }),
    ]);
  });
});
