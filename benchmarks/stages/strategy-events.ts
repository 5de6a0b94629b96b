// A trader's strategy events after one frame, following the whole universe: the symbols the frame touched against a scan of every symbol.
import {
  BookBarWatcher,
  BookMarketData,
  type SymbolDirectory,
} from '../../trader/engine/book-market-data.js';
import type { MarketEvent } from '../../trader/engine/events.js';
import { MarketEventScan } from '../../trader/engine/market-event-scan.js';
import { HubBook, IngestEncoder, TraderBook } from '../../ts/native/index.js';
import type { Case } from '../case.js';

const T0 = 1778198400000;
/** The USD-M universe's size. */
const SYMBOLS = Array.from({ length: 600 }, (_, i) => `S${i}USDT`);
/** Updates in the measured frame: a hub turn's at about 20k updates/s (half bars, half quotes). */
const FRAME_UPDATES = 20;

/**
 * A book holding every symbol's 1m and 15m bar and quote, and `applyFrame`, which applies a frame
 * that changes `FRAME_UPDATES` of them.
 */
function universeBook(): { book: TraderBook; applyFrame: () => void } {
  const hub = new HubBook({ symbols: SYMBOLS });
  hub.addTopic(1, {}, 2);
  const collector = new IngestEncoder(SYMBOLS);
  const kline = (id: number, trades: number, interval: '1m' | '15m') => ({
    openTime: T0,
    closeTime: T0 + (interval === '1m' ? 59_999 : 899_999),
    open: '10.0',
    high: '10.5',
    low: '9.5',
    close: `10.${trades}`,
    volume: `${trades}`,
    quoteVolume: `${trades * 10}`,
    trades,
    takerBuyVolume: '0',
    takerBuyQuoteVolume: '0',
    closed: false,
    asOf: T0 + id,
  });
  const quote = (price: string, time: number) => ({
    bid: price,
    bidQty: '1',
    ask: price,
    askQty: '1',
    last: price,
    time,
  });
  const turn = (now: number): Buffer | undefined => {
    const frame = collector.takeFrame(1, now);
    if (frame === null) throw new Error('no frame');
    return hub.ingestTurn([frame], [1], now).frames[0]?.frame;
  };
  for (let id = 0; id < SYMBOLS.length; id++) {
    collector.pushKlines(id, '1m', [kline(id, 1, '1m')]);
    collector.pushKlines(id, '15m', [kline(id, 1, '15m')]);
    collector.pushTick(id, quote('10.1', T0 + 1_000));
  }
  turn(T0 + 1_000);
  const book = new TraderBook();
  for (const chunk of hub.topicSnapshotFrames(1, T0)) book.apply(chunk);
  for (let i = 0; i < FRAME_UPDATES / 2; i++) {
    const id = (i * 61) % SYMBOLS.length;
    collector.pushKlines(id, '1m', [kline(id, 2, '1m')]);
    collector.pushTick((id + 7) % SYMBOLS.length, quote('10.2', T0 + 2_000));
  }
  const frame = turn(T0 + 2_000);
  const applyFrame = () => {
    if (frame === undefined || book.applyMany([frame]).applied !== 1)
      throw new Error('the frame did not apply');
  };
  return { book, applyFrame };
}

/**
 * `trader/strategy events after a frame`: what the trading runtime does after each frame for a
 * strategy following all 600 symbols with ticks and 1m and 15m bars. Ours is `MarketEventScan.changed`
 * (the symbols the frame touched) with the feed's symbol map; the baseline, what the runtime did
 * before: a scan of every symbol, its ids found by searching the hub's symbol list. The book holds
 * the state after the frame, so every call does the same lookups (the events went out on the
 * first; `verify` checks both emit the same ones).
 */
export function strategyEventCases(): Case[] {
  const { book, applyFrame } = universeBook();
  const byMap = new Map(SYMBOLS.map((name, id) => [name, id]));
  const mapped: SymbolDirectory = { symbolId: (name) => byMap.get(name), symbols: () => SYMBOLS };
  const searched: SymbolDirectory = {
    symbolId: (name) => {
      const id = SYMBOLS.indexOf(name);
      return id < 0 ? undefined : id;
    },
    symbols: () => SYMBOLS,
  };
  const scan = (directory: SymbolDirectory, out: MarketEvent[]) =>
    new MarketEventScan({
      directory,
      market: new BookMarketData(book, directory),
      watcher: new BookBarWatcher(book, directory),
      requirements: { ticks: true, intervals: ['1m', '15m'] },
      follows: () => true,
      push: (event) => out.push(event),
    });
  const oursOut: MarketEvent[] = [];
  const baselineOut: MarketEvent[] = [];
  const ours = scan(mapped, oursOut);
  const baseline = scan(searched, baselineOut);
  // Both start as the runtime starts, with a scan of everything; then the frame applies and each
  // finds its events its own way.
  ours.all(T0);
  baseline.all(T0);
  oursOut.length = 0;
  baselineOut.length = 0;
  applyFrame();
  const changes = book.changes;
  ours.changed(changes, T0);
  baseline.all(T0);
  // A new last price for each quote of the frame (the bars changed no last price: their symbols' quotes hold it).
  const same =
    JSON.stringify(oursOut) === JSON.stringify(baselineOut) && oursOut.length === FRAME_UPDATES / 2;
  return [
    {
      name: 'trader/strategy events after a 20-update frame (600 symbols followed)',
      unit: 'us/msg',
      batch: 1,
      verify: () => {
        if (!same)
          throw new Error(`the scans disagree: ${oursOut.length} against ${baselineOut.length} events`);
      },
      native: () => ours.changed(changes, T0),
      baseline: () => baseline.all(T0),
    },
  ];
}
