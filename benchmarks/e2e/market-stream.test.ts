import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import {
  E2E_SYMBOLS,
  FrameKind,
  frameUpdates,
  MarketStream,
  messageIndex,
  messageSeries,
  SERIES,
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
});
