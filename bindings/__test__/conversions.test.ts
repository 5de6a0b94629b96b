// The binding's conversions at its edges: exact decimal strings, integer limits, optional fields, errors with codes, buffers, batch failures.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { HotCalls } from '../hot-calls.cjs';
import type * as Binding from '../index.cjs';

const binding: typeof Binding = createRequire(import.meta.url)('../index.cjs');

/** Messages back to back with each one's end offset: how a batch of raw messages crosses the binding. */
function gathered(messages: Buffer[]): { bytes: Buffer; ends: Uint32Array } {
  const ends = new Uint32Array(messages.length);
  let end = 0;
  messages.forEach((message, i) => {
    end += message.length;
    ends[i] = end;
  });
  return { bytes: Buffer.concat(messages), ends };
}

const T0 = 1778198400000;
const NOW = T0 + 60_000;

function bar(overrides: Partial<Binding.KlineObject> = {}): Binding.KlineObject {
  return {
    openTime: T0,
    closeTime: T0 + 59_999,
    open: '7.6110',
    high: '9.0000',
    low: '7.0000',
    close: '8.0000',
    volume: '100',
    quoteVolume: '761.1000',
    trades: 3,
    takerBuyVolume: '40',
    takerBuyQuoteVolume: '304.4400',
    closed: false,
    asOf: 0,
    ...overrides,
  };
}

/** The error a native call threw, with its `code`. */
function thrown(call: () => unknown): { code: unknown; message: string } {
  try {
    call();
  } catch (error) {
    if (error instanceof Error)
      return { code: (error as Error & { code?: unknown }).code, message: error.message };
    throw error;
  }
  throw new Error('the call did not throw');
}

/** A hub book with BTCUSDT and ETHUSDT registered and one topic (7) following everything. */
function hub(): Binding.HubBook {
  const book = new binding.HubBook({ symbols: ['BTCUSDT', 'ETHUSDT'] });
  book.addTopic(7, {});
  return book;
}

/** Each hub book's turn scratch and frame index (each can be exported once). */
const turnViews = new WeakMap<Binding.HubBook, { area: Uint8Array; index: Float64Array }>();

/** The `count` frames of the book's last turn call, read as the facade reads them. */
function turnFrames(book: Binding.HubBook, count: number): { stream: number; seq: number; frame: Buffer }[] {
  let views = turnViews.get(book);
  if (views === undefined) {
    views = { area: book.turnScratch(), index: book.turnFrameIndex() };
    turnViews.set(book, views);
  }
  const { area, index } = views;
  const frames = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = index[i * 3 + 2] as number;
    frames.push({
      stream: index[i * 3] as number,
      seq: index[i * 3 + 1] as number,
      frame: Buffer.from(area.subarray(offset, offset + length)),
    });
    offset += length;
  }
  return frames;
}

/** The frames of one native turn of `frames`. */
function ingestTurn(book: Binding.HubBook, frames: Buffer[], sources: number[], now: number): Buffer[] {
  return turnFrames(book, book.ingestTurnToScratch(frames, sources, now)).map((f) => f.frame);
}

/** Each encoder's frame scratch (it can be exported once). */
const scratches = new WeakMap<Binding.IngestEncoder, Uint8Array>();

/** A copy of the frame of `length` bytes the encoder just wrote (null for 0), as the facade reads it. */
function frameOfLength(encoder: Binding.IngestEncoder, length: number): Buffer | null {
  let scratch = scratches.get(encoder);
  if (scratch === undefined) {
    scratch = encoder.frameScratch();
    scratches.set(encoder, scratch);
  }
  if (length === 0) return null;
  return length > scratch.length ? encoder.takeHeldFrame() : Buffer.from(scratch.subarray(0, length));
}

/** The encoder's pending records as one frame (null when none). */
function takeFrame(encoder: Binding.IngestEncoder): Buffer | null {
  return frameOfLength(encoder, encoder.takeFrameToScratch(1, 0));
}

function frameOf(fill: (encoder: Binding.IngestEncoder) => void): Buffer {
  const encoder = new binding.IngestEncoder(['BTCUSDT', 'ETHUSDT']);
  fill(encoder);
  const frame = takeFrame(encoder);
  if (frame === null) throw new Error('nothing encoded');
  return frame;
}

describe('decimal strings', () => {
  it('come back exactly as they went in, scale included', () => {
    const book = hub();
    const counts = book.turnCounts();
    book.ingestTurnToScratch([frameOf((e) => e.pushKlines(0, '1m', [bar()]))], [1], NOW);
    expect(counts[0]).toBe(1); // changed
    const [entry] = book.klines(0, '1m');
    // The price group shares one scale on the wire: 9 and 7 travel as 9.0000 and 7.0000.
    expect(entry?.kline).toMatchObject({ open: '7.6110', high: '9.0000', close: '8.0000', volume: '100' });
    const tiny = '0.000000000000000001';
    book.ingestTurnToScratch(
      [frameOf((e) => e.pushTick(1, { bid: tiny, bidQty: '1', ask: tiny, askQty: '1', time: NOW - 10 }))],
      [1],
      NOW,
    );
    expect(counts[0]).toBe(1);
    expect(book.tick(1)?.tick.bid).toBe(tiny);
  });

  it('are refused with the field named when they are not plain decimals', () => {
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    for (const text of ['1e5', '', ' 1', '+1', '1.2.3', 'NaN', `0.${'0'.repeat(30)}1`]) {
      const error = thrown(() => encoder.pushKlines(0, '1m', [bar({ open: text })]));
      expect(error.code, text).toBe('invalid_decimal');
      expect(error.message).toContain('open');
    }
    expect(encoder.pending).toBe(0);
  });
});

describe('integers', () => {
  it('round-trip up to Number.MAX_SAFE_INTEGER', () => {
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    encoder.pushKlines(0, '1m', [
      bar({ firstTradeId: Number.MAX_SAFE_INTEGER - 1, lastTradeId: Number.MAX_SAFE_INTEGER }),
    ]);
    const frame = takeFrame(encoder);
    if (frame === null) throw new Error('nothing encoded');
    const trader = new binding.TraderBook();
    const book = hub();
    book.ingestTurnToScratch([frame], [1], NOW);
    for (const chunk of book.topicSnapshotFrames(7, NOW)) trader.apply(chunk);
    expect(trader.klines(0, '1m')[0]).toMatchObject({
      firstTradeId: Number.MAX_SAFE_INTEGER - 1,
      lastTradeId: Number.MAX_SAFE_INTEGER,
    });
  });

  it('are refused when a JS number would not convert exactly: fractions, NaN, beyond 2^53, negative counts', () => {
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    for (const [field, value] of [
      ['trades', 3.5],
      ['trades', Number.NaN],
      ['trades', -1],
      ['openTime', 2 ** 53],
      ['asOf', Number.POSITIVE_INFINITY],
      ['firstTradeId', -5],
    ] as const) {
      const error = thrown(() => encoder.pushKlines(0, '1m', [bar({ [field]: value })]));
      expect(error.code, `${field} ${value}`).toBe('invalid_value');
      expect(error.message).toContain(field);
    }
    const tick = { bid: '1', bidQty: '1', ask: '2', askQty: '1', time: 1.5 };
    expect(thrown(() => encoder.pushTick(0, tick)).code).toBe('invalid_value');
    expect(encoder.pending).toBe(0);
  });

  it('refuses values outside the native type of an argument', () => {
    const book = hub();
    expect(thrown(() => book.ingestTurnToScratch([Buffer.alloc(8)], [70_000], NOW)).code).toBe(
      'invalid_value',
    );
    expect(thrown(() => book.ingestOneToScratch(Buffer.alloc(8), 70_000, NOW)).code).toBe('invalid_value');
    expect(thrown(() => book.ingestTurnToScratch([Buffer.alloc(8)], [1, 2], NOW)).code).toBe('invalid_value');
    expect(thrown(() => book.takeDeltaFrame(1, -1, 0)).code).toBe('invalid_value');
    // A value of the wrong JS type is napi's own conversion error.
    const wrongType = thrown(() =>
      new binding.IngestEncoder(['BTCUSDT']).pushKlines(0, '1m', [bar({ trades: '3' as unknown as number })]),
    );
    expect(wrongType.message).toContain('trades');
  });
});

describe('optional fields', () => {
  it('are absent when the source had none and present when it had one', () => {
    const book = hub();
    const base = { bid: '1.5', bidQty: '2', ask: '1.6', askQty: '3' };
    book.ingestTurnToScratch([frameOf((e) => e.pushTick(0, { ...base, time: NOW - 20 }))], [1], NOW);
    const bare = book.tick(0)?.tick;
    expect(bare).toEqual({ ...base, time: NOW - 20 });
    expect(bare !== undefined && 'last' in bare).toBe(false);
    book.ingestTurnToScratch(
      [frameOf((e) => e.pushTick(0, { ...base, last: '1.55', updateId: 9, time: NOW - 10 }))],
      [1],
      NOW,
    );
    expect(book.tick(0)?.tick).toMatchObject({ last: '1.55', updateId: 9 });
    book.ingestTurnToScratch(
      [
        frameOf((e) =>
          e.pushPosition(1, { side: 'SHORT', amount: '-2.5', markPrice: '3000.1', updateTime: NOW - 5 }),
        ),
      ],
      [1],
      NOW,
    );
    const position = book.position(1, 'SHORT')?.position;
    expect(position).toEqual({ side: 'SHORT', amount: '-2.5', markPrice: '3000.1', updateTime: NOW - 5 });
  });
});

describe('errors', () => {
  it('carry the core reason label as `code`', () => {
    expect(thrown(() => new binding.IngestEncoder(['BTC USDT'])).code).toBe('invalid_name');
    expect(thrown(() => new binding.IngestEncoder(['BTCUSDT']).pushKlines(0, '2m', [])).code).toBe(
      'invalid_interval',
    );
    expect(thrown(() => new binding.TraderBook(0)).code).toBe('invalid_config');
    expect(thrown(() => new binding.HubBook({ snapshotChunkBytes: 10 })).code).toBe('invalid_config');
    const book = hub();
    expect(thrown(() => book.topicSnapshotFrames(99, NOW)).code).toBe('unknown_stream');
    expect(thrown(() => book.addTopic(7, {})).code).toBe('duplicate_stream');
    expect(thrown(() => book.addTopic(8, { kinds: ['candles'] })).code).toBe('invalid_value');
    book.restCounts();
    expect(thrown(() => book.restCounts()).code).toBe('view_exported');
    expect(thrown(() => book.mergeRestKlines(0, '1m', Buffer.from('[[1'), 0, 1, NOW)).code).toBe('truncated');
    expect(thrown(() => new binding.TraderBook().apply(Buffer.from('nope'))).code).toBe('bad_identifier');
  });
});

describe('buffers', () => {
  it('are read where they lie (a frame inside a larger buffer) and returned as Buffers', () => {
    const frame = frameOf((e) => e.pushKlines(0, '1m', [bar()]));
    const host = Buffer.alloc(frame.length + 13);
    frame.copy(host, 5);
    const book = hub();
    const counts = book.turnCounts();
    const count = book.ingestOneToScratch(host.subarray(5, 5 + frame.length), 1, NOW);
    expect(counts[5]).toBe(0); // undecodable
    expect(turnFrames(book, count).map((f) => [f.stream, f.seq])).toEqual([[7, 1]]);
    expect(book.topicSnapshotFrames(7, NOW).every((b) => Buffer.isBuffer(b))).toBe(true);
  });

  it('hand out live views of native memory, once each', () => {
    const book = hub();
    const trader = new binding.TraderBook(5);
    for (const chunk of book.topicSnapshotFrames(7, NOW)) trader.apply(chunk);
    trader.applyMany(ingestTurn(book, [frameOf((e) => e.pushKlines(0, '1m', [bar()]))], [1], NOW));
    const columns = trader.klineColumns(0, '1m');
    if (columns === null) throw new Error('no series');
    // 12 columns of 5 rows, then the bar count.
    expect(columns.length).toBe(12 * 5 + 1);
    expect(columns[12 * 5]).toBe(1);
    expect(columns[5 * 5]).toBe(8); // close of row 0
    const [next] = ingestTurn(
      book,
      [frameOf((e) => e.pushKlines(0, '1m', [bar({ close: '8.5000', trades: 4 })]))],
      [1],
      NOW,
    );
    trader.applyOne(next as Buffer);
    expect(columns[5 * 5]).toBe(8.5);
    expect(thrown(() => trader.klineColumns(0, '1m')).code).toBe('view_exported');
  });
});

describe('frames', () => {
  const kline = (t: number, trades: number): Buffer =>
    Buffer.from(
      `{"e":"kline","E":${t + 5},"s":"ETHUSDT","k":{"t":${t},"T":${t + 59_999},"s":"ETHUSDT","i":"1m","f":1,"L":${trades},"o":"3000.10","c":"3000.20","h":"3000.30","l":"3000.00","v":"2","n":${trades},"x":false,"q":"6000.30","V":"1","Q":"3000.15","B":"0"}}`,
    );

  it('are written into the scratch, which is handed out once, and numbered per encoder', () => {
    const encoder = new binding.IngestEncoder(['ETHUSDT']);
    expect(takeFrame(encoder)).toBeNull();
    expect(thrown(() => encoder.frameScratch()).code).toBe('view_exported');
    encoder.pushMarketEvent(kline(T0, 1));
    const first = takeFrame(encoder);
    encoder.pushMarketEvent(kline(T0, 2));
    const second = takeFrame(encoder);
    if (first === null || second === null) throw new Error('nothing encoded');
    // The copies are the caller's: the next frame written into the scratch leaves them as they were.
    expect(first.equals(second)).toBe(false);
    const book = hub();
    const counts = book.turnCounts();
    book.ingestTurnToScratch([first, second], [1, 1], NOW);
    expect([counts[0], counts[5]]).toEqual([2, 0]); // changed, undecodable
    // The encoder's id 0 is the hub's id 0: both frames arrived whole, the newer version last.
    expect(book.klines(0, '1m')[0]?.kline.trades).toBe(2);
  });

  it('larger than the scratch are held and handed out whole', () => {
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    const bars = Array.from({ length: 1_000 }, (_, i) =>
      bar({ openTime: T0 - i * 60_000, closeTime: T0 - i * 60_000 + 59_999, closed: true }),
    );
    encoder.pushKlines(0, '1m', bars);
    const length = encoder.takeFrameToScratch(1, 0);
    expect(length).toBeGreaterThan(64 * 1024);
    const frame = frameOfLength(encoder, length);
    expect(frame?.length).toBe(length);
    expect(encoder.takeHeldFrame()).toBeNull(); // taken once
    const book = new binding.HubBook({ symbols: ['BTCUSDT'], klineWindow: 1_000 });
    const counts = book.turnCounts();
    book.ingestOneToScratch(frame as Buffer, 1, NOW);
    expect([counts[0], counts[5]]).toEqual([1_000, 0]);
  });

  it('of one message pushed and taken in one call carry the pending records and keep the push failures', () => {
    const encoder = new binding.IngestEncoder(['ETHUSDT']);
    const pushCounts = encoder.pushCounts();
    encoder.pushMarketEvent(kline(T0, 1));
    const frame = frameOfLength(encoder, encoder.pushMarketEventAndTakeFrame(kline(T0 + 60_000, 1), 1, 0));
    expect(Array.from(pushCounts)).toEqual([1, 0]);
    expect(encoder.pending).toBe(0);
    const book = new binding.HubBook({ symbols: ['ETHUSDT'] });
    const counts = book.turnCounts();
    book.ingestOneToScratch(frame as Buffer, 1, NOW + 60_000);
    expect(counts[0]).toBe(2);
    expect(encoder.pushMarketEventAndTakeFrame(Buffer.from('{"e":"kline"'), 1, 0)).toBe(0);
    expect(Array.from(pushCounts)).toEqual([0, 1]);
    expect(encoder.takeFailures().map((f) => [f.index, f.code])).toEqual([[0, 'truncated']]);
  });
});

describe('batch failures', () => {
  it('are listed per item with their index and code, and never hide the rest of the batch', () => {
    const encoder = new binding.IngestEncoder(['ETHUSDT']);
    const pushCounts = encoder.pushCounts();
    const batch = gathered([
      Buffer.from('{"e":"bookTicker"'),
      Buffer.from(
        '{"e":"bookTicker","u":1,"s":"ETHUSDT","b":"3000.10","B":"2","a":"3000.20","A":"1","T":1778198400100,"E":1778198400101}',
      ),
      Buffer.from('{"e":"aggTrade","E":1,"s":"ETHUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}'),
    ]);
    const added = encoder.pushGatheredMarketEvents(batch.bytes, batch.ends, 3);
    expect(added).toBe(1);
    expect(Array.from(pushCounts)).toEqual([1, 2]);
    expect(encoder.takeFailures().map((f) => [f.index, f.code])).toEqual([
      [0, 'truncated'],
      [2, 'not_mergeable'],
    ]);
    const trader = new binding.TraderBook();
    const applyCounts = trader.applyCounts();
    const book = hub();
    const snapshot = book.topicSnapshotFrames(7, NOW);
    const issues = trader.applyMany([
      Buffer.from('garbage!'),
      ...snapshot,
      frameOf((e) => e.pushKlines(0, '1m', [bar()])),
    ]);
    expect(issues).toBe(2);
    // applied, snapshots, chunks, duplicates, ignored stale, issues
    expect(Array.from(applyCounts)).toEqual([0, 1, 0, 0, 0, 2]);
    expect(trader.takeIssues().map((i) => [i.index, i.outcome.kind, i.outcome.code])).toEqual([
      [0, 'invalid', 'bad_identifier'],
      [2, 'wrongKind', 'wrong_kind'],
    ]);
    // Four numbers per frame: kind code (-1: undecodable), stream, seq, result code.
    expect(Array.from(trader.frameReports())).toEqual([
      -1,
      Number.NaN,
      Number.NaN,
      8,
      2,
      7,
      0,
      1,
      0,
      0,
      1,
      7,
    ]);
  });

  it('put a stream collector’s bars from a gathered batch into the encoder’s batch without leaving native code', () => {
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    const bars = new binding.StreamBars('BTCUSDT', ['1m'], T0);
    const trade = (id: number, time: number) =>
      Buffer.from(
        `{"e":"aggTrade","E":${time},"s":"BTCUSDT","a":${id},"p":"100.5","q":"2","f":${id},"l":${id},"T":${time},"m":false}`,
      );
    const { bytes, ends } = gathered([trade(1, T0 - 1), Buffer.from('{'), trade(2, T0 + 61_000)]);
    // Ends that do not describe the bytes are refused before any message is applied.
    const pastBytes = Uint32Array.from(ends, (end, i) => (i === 2 ? bytes.length + 1 : end));
    expect(() => bars.pushGathered(bytes, pastBytes, 3, encoder)).toThrow(
      expect.objectContaining({
        code: 'invalid_batch',
        message: expect.stringContaining('message 2 ends at'),
      }),
    );
    expect(() => bars.pushGathered(bytes, ends, 4, encoder)).toThrow(
      expect.objectContaining({ code: 'invalid_batch' }),
    );
    expect(encoder.pending).toBe(0);
    const result = bars.pushGathered(bytes, ends, 3, encoder);
    // The first trade's minute may miss trades before it (withheld); the empty minute after it
    // and the open one are complete.
    expect(result).toMatchObject({ accepted: 2, bars: 2, withheld: 1 });
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([[1, 'truncated']]);
    expect(encoder.pending).toBe(2);
    expect(bars.completeFrom).toBe(T0);
    bars.markIncompleteUntil(T0 + 90_000);
    expect(bars.advanceTo(T0 + 120_000, encoder)).toMatchObject({ bars: 0, withheld: 1 });
  });
});

describe('turn frames', () => {
  const klineFrame = (trades: number): Buffer => frameOf((e) => e.pushKlines(0, '1m', [bar({ trades })]));

  it('are written back to back into the turn scratch with [stream, seq, length] each, views handed out once', () => {
    const book = hub();
    book.addTopic(9, { kinds: ['kline'] }, 2);
    book.addTopic(11, { kinds: ['tick'] });
    const counts = book.turnCounts();
    const count = book.ingestTurnToScratch([klineFrame(3)], [1], NOW);
    // Stream 11 follows ticks only: no frame for it.
    expect(count).toBe(2);
    expect(counts[8]).toBe(0); // not spilled
    const frames = turnFrames(book, count);
    expect(frames.map((f) => [f.stream, f.seq])).toEqual([
      [7, 1],
      [9, 1],
    ]);
    expect(thrown(() => book.turnScratch()).code).toBe('view_exported');
    expect(thrown(() => book.turnFrameIndex()).code).toBe('view_exported');
    // A wire-1 frame and a compact one, each readable by a trader that took the stream's snapshot.
    const reference = hub();
    reference.addTopic(9, { kinds: ['kline'] }, 2);
    const wire1 = new binding.TraderBook();
    const wire2 = new binding.TraderBook();
    for (const chunk of reference.topicSnapshotFrames(7, NOW)) wire1.apply(chunk);
    for (const chunk of reference.topicSnapshotFrames(9, NOW)) wire2.apply(chunk);
    expect(wire1.applyOne(frames[0]?.frame as Buffer)).toBe(0);
    expect(wire2.applyOne(frames[1]?.frame as Buffer)).toBe(0);
    expect(wire1.klines(0, '1m')[0]?.trades).toBe(3);
    expect(wire2.klines(0, '1m')[0]?.trades).toBe(3);
  });

  it('of a one-frame turn are the same whether the frame came alone or in an array', () => {
    const alone = hub();
    const inArray = hub();
    for (const trades of [1, 2, 3]) {
      const frame = klineFrame(trades);
      const a = turnFrames(alone, alone.ingestOneToScratch(frame, 1, NOW));
      const b = turnFrames(inArray, inArray.ingestTurnToScratch([frame], [1], NOW));
      expect(a).toEqual(b);
      expect(a.map((f) => f.seq)).toEqual([trades]);
    }
    expect(alone.ingestOneToScratch(klineFrame(3), 1, NOW)).toBe(0); // nothing changed: no frame
    expect(alone.takeTopicFramesToScratch(NOW)).toBe(0);
  });

  it('spill whole when the index cannot describe them: more frames than it holds', () => {
    const book = new binding.HubBook({ symbols: ['BTCUSDT'] });
    const streams = Array.from({ length: 1_100 }, (_, i) => i + 1);
    for (const stream of streams) book.addTopic(stream, {});
    const counts = book.turnCounts();
    const count = book.ingestOneToScratch(klineFrame(3), 1, NOW);
    expect(count).toBe(1_100);
    expect(counts[8]).toBe(1);
    const flat = book.takeSpilledFrames();
    expect(flat.length).toBe(3 * 1_100);
    expect(flat.filter((_, i) => i % 3 === 0)).toEqual(streams);
    expect(flat.filter((_, i) => i % 3 === 1).every((seq) => seq === 1)).toBe(true);
    expect(flat.filter((_, i) => i % 3 === 2).every((f) => Buffer.isBuffer(f))).toBe(true);
    expect(book.takeSpilledFrames()).toEqual([]); // taken once
    // With 1,024 topics the next turn fits again.
    for (const stream of streams.slice(1_024)) book.removeTopic(stream);
    const fitting = turnFrames(book, book.ingestOneToScratch(klineFrame(4), 1, NOW));
    expect(counts[8]).toBe(0);
    expect(fitting.map((f) => f.stream)).toEqual(streams.slice(0, 1_024));
    expect(fitting.every((f) => f.seq === 2 && f.frame.length > 0)).toBe(true);
  });

  it('spill whole when their bytes exceed the scratch', () => {
    const book = new binding.HubBook({ symbols: ['BTCUSDT'], klineWindow: 1_000 });
    for (const stream of [1, 2, 3, 4]) book.addTopic(stream, {});
    const counts = book.turnCounts();
    const encoder = new binding.IngestEncoder(['BTCUSDT']);
    encoder.pushKlines(
      0,
      '1m',
      Array.from({ length: 1_000 }, (_, i) =>
        bar({ openTime: T0 - i * 60_000, closeTime: T0 - i * 60_000 + 59_999, closed: true }),
      ),
    );
    const frame = frameOfLength(encoder, encoder.takeFrameToScratch(1, 0));
    expect(book.ingestOneToScratch(frame as Buffer, 1, NOW)).toBe(4);
    expect(counts[8]).toBe(1);
    const flat = book.takeSpilledFrames();
    const frames = flat.filter((x): x is Buffer => Buffer.isBuffer(x));
    expect(frames.reduce((n, f) => n + f.length, 0)).toBeGreaterThan(256 * 1024);
    const trader = new binding.TraderBook(1_000);
    const reference = new binding.HubBook({ symbols: ['BTCUSDT'], klineWindow: 1_000 });
    reference.addTopic(3, {});
    for (const chunk of reference.topicSnapshotFrames(3, NOW)) trader.apply(chunk);
    expect(trader.applyOne(frames[2] as Buffer)).toBe(0);
    expect(trader.klines(0, '1m').length).toBe(1_000);
  });
});

describe('hot calls', () => {
  /** The raw Node-API functions registered beside napi-rs's exports (not in index.d.cts). */
  const hot = binding as unknown as HotCalls;
  const klineFrame = (trades: number): Buffer => frameOf((e) => e.pushKlines(0, '1m', [bar({ trades })]));

  it('do what the napi-rs methods do, on the book their handle names', () => {
    const viaHot = hub();
    const viaMethod = hub();
    const handle = viaHot.hotHandle();
    expect(viaHot.hotHandle()).toBe(handle); // the same handle on every call
    expect(hub().hotHandle()).not.toBe(handle);
    const hotCounts = viaHot.turnCounts();
    const methodCounts = viaMethod.turnCounts();
    const traders = [new binding.TraderBook(), new binding.TraderBook()];
    const [hotTrader, methodTrader] = traders as [Binding.TraderBook, Binding.TraderBook];
    for (const trader of traders) for (const chunk of viaHot.topicSnapshotFrames(7, NOW)) trader.apply(chunk);
    const traderHandle = hotTrader.hotHandle();
    for (const trades of [1, 2, 3]) {
      const frame = klineFrame(trades);
      // Read inside a larger buffer, as the napi-rs conversion does.
      const host = Buffer.alloc(frame.length + 9);
      frame.copy(host, 4);
      const a = turnFrames(viaHot, hot.hubIngestOne(handle, host.subarray(4, 4 + frame.length), 1, NOW));
      const b = turnFrames(viaMethod, viaMethod.ingestOneToScratch(frame, 1, NOW));
      expect(a).toEqual(b);
      expect([...hotCounts]).toEqual([...methodCounts]);
      expect(hot.traderApplyOne(traderHandle, a[0]?.frame as Buffer)).toBe(0);
      expect(methodTrader.applyOne(b[0]?.frame as Buffer)).toBe(0);
      expect(hotTrader.klines(0, '1m')).toEqual(methodTrader.klines(0, '1m'));
    }
    expect(hotTrader.klines(0, '1m')[0]?.trades).toBe(3);
    // A gap is reported as applyOne reports it: one frame needing attention, at index 0.
    const skipped = klineFrame(4);
    turnFrames(viaHot, hot.hubIngestOne(handle, skipped, 1, NOW));
    const [late] = turnFrames(viaHot, hot.hubIngestOne(handle, klineFrame(5), 1, NOW));
    expect(hot.traderApplyOne(traderHandle, late?.frame as Buffer)).toBe(1);
    expect(hotTrader.takeIssues()).toEqual([
      { index: 0, outcome: { kind: 'gap', needsSnapshot: true, stream: 7, expected: 4, got: 5 } },
    ]);
    // An undecodable frame is reported, not thrown, on both paths.
    expect(hot.traderApplyOne(traderHandle, Buffer.from([1, 2, 3]))).toBe(1);
    expect(hotTrader.takeIssues()[0]?.outcome.kind).toBe('invalid');
    expect(hot.hubIngestOne(handle, Buffer.from([1, 2, 3]), 1, NOW)).toBe(0);
    expect(hotCounts[5]).toBe(1); // undecodable
  });

  it('refuse what the napi-rs methods refuse, and handles no book has, with codes', () => {
    const book = hub();
    const handle = book.hotHandle();
    const trader = new binding.TraderBook();
    const traderHandle = trader.hotHandle();
    const frame = klineFrame(1);
    expect(thrown(() => hot.hubIngestOne(handle, frame, 70_000, NOW)).code).toBe('invalid_value');
    expect(thrown(() => hot.hubIngestOne(1_000_000, frame, 1, NOW)).code).toBe('invalid_handle');
    expect(thrown(() => hot.traderApplyOne(1_000_000, frame)).code).toBe('invalid_handle');
    expect(thrown(() => hot.traderApplyOne(traderHandle, 'frame' as unknown as Uint8Array)).code).toBe(
      'invalid_arg',
    );
    expect(
      thrown(() => hot.traderApplyOne(traderHandle, new Float64Array(4) as unknown as Uint8Array)).code,
    ).toBe('invalid_arg');
    expect(thrown(() => hot.traderApplyOne('0' as unknown as number, frame)).code).toBe('invalid_arg');
    expect(thrown(() => hot.hubIngestOne(handle, frame, 1, 'now' as unknown as number)).code).toBe(
      'invalid_arg',
    );
    expect(thrown(() => (hot.hubIngestOne as (...args: unknown[]) => number)()).code).toBe('invalid_arg');
    // An empty frame is a frame that does not decode, not a refused argument.
    expect(hot.traderApplyOne(traderHandle, new Uint8Array(0))).toBe(1);
  });

  it('merge a REST klines poll and discard its deltas as the napi-rs methods do', () => {
    const viaHot = hub();
    const viaMethod = hub();
    const handle = viaHot.hotHandle();
    const [hotCounts, methodCounts] = [viaHot.restCounts(), viaMethod.restCounts()];
    const minute = 60_000;
    const open = Math.floor(NOW / minute) * minute;
    const row = (at: number, close: string, trades: number): string =>
      `[${at},"100.5","101.0","99.5","${close}","12.0",${at + minute - 1},"1206.0",${trades},"6.0","603.0","0"]`;
    // The same series polled three times, then with a bar the hub refuses (opening years ahead).
    const polls = [
      `[${row(open - minute, '100.6', 30)},${row(open, '100.7', 3)}]`,
      `[${row(open - minute, '100.6', 30)},${row(open, '100.8', 4)}]`,
      `[${row(open - minute, '100.6', 30)},${row(open, '100.8', 4)}]`,
      `[${row(open - minute, '100.6', 30)},${row(open, '100.8', 4)},${row(open + 1_000 * 1_440 * minute, '100.8', 4)}]`,
    ];
    for (const text of polls) {
      const body = Buffer.from(text);
      const refused = hot.hubMergeRestKlines(handle, 0, '1m', body, NOW, 3, NOW);
      expect(refused).toBe(viaMethod.mergeRestKlines(0, '1m', body, NOW, 3, NOW));
      expect([...hotCounts]).toEqual([...methodCounts]);
      expect(viaHot.takeRejected()).toEqual(viaMethod.takeRejected());
    }
    expect([...hotCounts]).toEqual([0, 2, 0, 1]);
    expect(viaHot.pendingDeltas).toBe(3);
    expect(hot.hubDiscardDeltas(handle)).toBe(viaMethod.discardDeltas());
    expect(viaHot.pendingDeltas).toBe(0);
    expect(viaHot.klines(0, '1m')).toEqual(viaMethod.klines(0, '1m'));
    // Refusals: the method's own errors, and the arguments a raw call can get wrong.
    expect(thrown(() => hot.hubMergeRestKlines(handle, 0, '1m', Buffer.from('[[1'), 0, 1, NOW)).code).toBe(
      'truncated',
    );
    expect(thrown(() => hot.hubMergeRestKlines(handle, 0, '2m', Buffer.from('[]'), 0, 1, NOW)).code).toBe(
      'invalid_interval',
    );
    expect(
      thrown(() => hot.hubMergeRestKlines(handle, 0, '1m-and-much-longer', Buffer.from('[]'), 0, 1, NOW))
        .code,
    ).toBe('invalid_interval');
    expect(
      thrown(() => hot.hubMergeRestKlines(handle, 0, 1 as unknown as string, Buffer.from('[]'), 0, 1, NOW))
        .code,
    ).toBe('invalid_arg');
    expect(
      thrown(() => hot.hubMergeRestKlines(handle, 0, '1m', '[]' as unknown as Uint8Array, 0, 1, NOW)).code,
    ).toBe('invalid_arg');
    expect(
      thrown(() => hot.hubMergeRestKlines(handle, 0, '1m', Buffer.from('[]'), 0, 70_000, NOW)).code,
    ).toBe('invalid_value');
    expect(thrown(() => viaMethod.mergeRestKlines(0, '1m', Buffer.from('[]'), 0, 70_000, NOW)).code).toBe(
      'invalid_value',
    );
    expect(thrown(() => hot.hubMergeRestKlines(1_000_000, 0, '1m', Buffer.from('[]'), 0, 1, NOW)).code).toBe(
      'invalid_handle',
    );
    expect(thrown(() => hot.hubDiscardDeltas(1_000_000)).code).toBe('invalid_handle');
  });

  it('refuse the handle of a book that was collected, and give it to the next book', () => {
    // In a child with --expose-gc: a collected book leaves its table, so its handle reaches nothing.
    const script = `
      const binding = require(${JSON.stringify(createRequire(import.meta.url).resolve('../index.cjs'))});
      let book = new binding.TraderBook();
      const handle = book.hotHandle();
      book = undefined;
      const collected = new Promise((resolve) => setTimeout(resolve, 50));
      collected.then(() => {
        globalThis.gc();
        setTimeout(() => {
          globalThis.gc();
          let code;
          try { binding.traderApplyOne(handle, Buffer.alloc(1)); } catch (error) { code = error.code; }
          const next = new binding.TraderBook().hotHandle();
          process.stdout.write(JSON.stringify({ code, reused: next === handle }));
        }, 50);
      });
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ code: 'invalid_handle', reused: true });
  });
});
