import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import { TraderBook } from '../../ts/native/trader-book.js';
import { AppliedUpdates } from './applied-updates.js';
import {
  E2E_SYMBOLS,
  e2eSymbols,
  FrameKind,
  frameUpdates,
  MarketStream,
  messageIndex,
  messageSeries,
  SERIES,
  seriesCount,
  USDM_UNIVERSE,
} from './market-stream.js';

function updates(frame: Uint8Array): { kind: FrameKind; seen: Array<[number, number]> } {
  const seen: Array<[number, number]> = [];
  const kind = frameUpdates(frame, (series, j) => seen.push([series, j]));
  return { kind, seen };
}

describe('MarketStream', () => {
  it('numbers messages by series and update, both ways', () => {
    for (const m of [0, 1, SERIES - 1, SERIES, 12_345]) {
      const [series, j] = messageSeries(m);
      expect(messageIndex(series, j)).toBe(m);
    }
  });

  it('is the same sequence every time', () => {
    expect(new MarketStream().take(50)).toEqual(new MarketStream().take(50));
  });

  it('changes the book with every message, and the frames on both sides of the hub name it', () => {
    const stream = new MarketStream();
    const encoder = new IngestEncoder(E2E_SYMBOLS);
    const book = new HubBook({ symbols: E2E_SYMBOLS });
    book.addTopic(7, { kinds: ['kline', 'tick'], intervals: ['1m'] });
    const count = SERIES * 2 + 5;
    for (let m = 0; m < count; m++) {
      const [message] = stream.take(1);
      if (message === undefined) throw new Error('no message');
      expect(encoder.pushMarketEvents([message]).failures).toEqual([]);
      const ingest = encoder.takeFrame(1, 0);
      if (ingest === null) throw new Error(`message ${m} encoded nothing`);
      expect(updates(ingest)).toEqual({ kind: FrameKind.Ingest, seen: [messageSeries(m)] });
      expect(book.ingest(ingest, 1, Date.now()).changed).toBe(1);
      const { frames } = book.takeTopicFrames(0);
      expect(frames).toHaveLength(1);
      const delta = frames[0]?.frame;
      if (delta === undefined) throw new Error(`message ${m} produced no delta`);
      // The delta names message m; anything else it carries (a quote can re-send its symbol's
      // kline) is an update already delivered, which the subscriber's log ignores.
      const { kind, seen } = updates(delta);
      expect(kind).toBe(FrameKind.Delta);
      expect(seen).toContainEqual(messageSeries(m));
      for (const [series, j] of seen) expect(messageIndex(series, j)).toBeLessThanOrEqual(m);
    }
    expect(encoder.unknownSymbols).toBe(0);
  });

  it('names the newest update of each series when one frame carries a tick of messages', () => {
    const stream = new MarketStream();
    const encoder = new IngestEncoder(E2E_SYMBOLS);
    stream.take(SERIES - 2);
    // Messages SERIES-2 .. SERIES+3: series 398, 399 (update 0), then 0..3 (update 1).
    expect(encoder.pushMarketEvents(stream.take(6)).failures).toEqual([]);
    const frame = encoder.takeFrame(1, 0);
    if (frame === null) throw new Error('nothing encoded');
    const seen = updates(frame).seen.sort((a, b) => a[0] - b[0]);
    expect(seen).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [SERIES - 2, 0],
      [SERIES - 1, 0],
    ]);
  });

  it('carries the real universe (600 symbols, 1m and 15m klines, quotes), named through wire 1 frames and the changes of a wire-2 book', () => {
    const universe = USDM_UNIVERSE;
    const symbols = e2eSymbols(universe);
    const series = seriesCount(universe);
    expect(series).toBe(1_800);
    const stream = new MarketStream(universe);
    const encoder = new IngestEncoder(symbols);
    const book = new HubBook({ symbols });
    book.addTopic(7, { kinds: ['kline', 'tick'], intervals: ['1m', '15m'] });
    book.addTopic(8, { kinds: ['kline', 'tick'], intervals: ['1m', '15m'] }, 2);
    const trader = new TraderBook();
    for (const chunk of book.topicSnapshotFrames(8, 0)) trader.apply(chunk);
    const applied = new AppliedUpdates(trader, universe);
    const seenSlots = new Set<number>();
    // Two rounds of every series and a few more: each symbol's 1m bar, 15m bar and quote.
    for (let m = 0; m < series * 2 + 7; m++) {
      const [message] = stream.take(1);
      if (message === undefined) throw new Error('no message');
      expect(encoder.pushMarketEvents([message]).failures).toEqual([]);
      const ingest = encoder.takeFrame(1, 0);
      if (ingest === null) throw new Error(`message ${m} encoded nothing`);
      const want = messageSeries(m, universe);
      seenSlots.add(want[0] % 3);
      const named = (frame: Uint8Array) => {
        const seen: Array<[number, number]> = [];
        frameUpdates(frame, (s2, j) => seen.push([s2, j]), universe);
        return seen;
      };
      expect(named(ingest)).toEqual([want]);
      expect(book.ingest(ingest, 1, Date.now()).changed).toBe(1);
      const { frames } = book.takeTopicFrames(0);
      const wire1 = frames.find((f) => f.stream === 7)?.frame;
      const wire2 = frames.find((f) => f.stream === 8)?.frame;
      if (wire1 === undefined || wire2 === undefined) throw new Error(`message ${m}: a stream got no delta`);
      expect(named(wire1)).toContainEqual(want);
      expect(trader.applyMany([wire2]).issues).toEqual([]);
      const seen: Array<[number, number]> = [];
      applied.visit((s2, j) => seen.push([s2, j]));
      expect(seen).toContainEqual(want);
    }
    expect(seenSlots).toEqual(new Set([0, 1, 2]));
    expect(encoder.unknownSymbols).toBe(0);
  });
});
