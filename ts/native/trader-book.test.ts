import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from './hub.js';
import type { Kline } from './records.js';
import { KLINE_COLUMNS, type KlineColumn, TraderBook } from './trader-book.js';

const T0 = 1778198400000;
const STREAM = 7;

function bar(i: number, close: string): Kline {
  return {
    openTime: T0 + i * 60_000,
    closeTime: T0 + i * 60_000 + 59_999,
    open: '7.6110',
    high: '9.0000',
    low: '7.0000',
    close,
    volume: '100',
    quoteVolume: '761.1000',
    trades: 3,
    takerBuyVolume: '40',
    takerBuyQuoteVolume: '304.4400',
    closed: false,
    asOf: 0,
  };
}

/** A hub with one collector; `step` merges bars and returns the next Delta frame. */
function hubWithStream() {
  const hub = new HubBook({ klineWindow: 5, symbols: ['SUSHIUSDT'] });
  const collector = new IngestEncoder(['SUSHIUSDT']);
  let seq = 0;
  return {
    hub,
    step(bars: Kline[]): Buffer {
      collector.pushKlines(0, '1m', bars);
      hub.ingest(collector.takeFrame(1, 0) as Buffer, 1, Date.now());
      seq += 1;
      const frame = hub.takeDeltaFrame(STREAM, seq, 0);
      if (frame === null) throw new Error('no change');
      return frame;
    },
    snapshot: () => hub.snapshotFrame(STREAM, seq, 0),
  };
}

describe('trader book', () => {
  it('applies deltas in sequence and keeps exact decimals end to end', () => {
    const { step, snapshot } = hubWithStream();
    const book = new TraderBook(5);
    expect(book.apply(snapshot())).toMatchObject({ kind: 'snapshot', stream: STREAM, seq: 0 });
    expect(book.apply(step([bar(0, '7.6120')]))).toMatchObject({ kind: 'applied', seq: 1, deltas: 1 });
    expect(book.klines(0, '1m')[0]).toMatchObject({
      open: '7.6110',
      close: '7.6120',
      quoteVolume: '761.1000',
    });
  });

  it('marks a stream stale on a gap, ignores it, and recovers from a snapshot', () => {
    const { step, snapshot } = hubWithStream();
    const book = new TraderBook(5);
    book.apply(snapshot());
    book.apply(step([bar(0, '8.0000')]));
    step([bar(1, '8.1000')]); // lost on the way
    const gap = book.apply(step([bar(2, '8.2000')]));
    expect(gap).toMatchObject({ kind: 'gap', expected: 2, got: 3, needsSnapshot: true });
    expect(book.isStale(STREAM)).toBe(true);
    expect(book.apply(step([bar(3, '8.3000')]))).toMatchObject({ kind: 'stale' });
    expect(book.apply(snapshot())).toMatchObject({ kind: 'snapshot', seq: 4 });
    expect(book.isStale(STREAM)).toBe(false);
    expect(book.klines(0, '1m').map((k) => k.close)).toEqual(['8.0000', '8.1000', '8.2000', '8.3000']);
    expect(book.apply(step([bar(4, '8.4000')]))).toMatchObject({ kind: 'applied', seq: 5 });
    expect(book.stats()).toMatchObject({ gaps: 1, ignoredWhileStale: 1, snapshots: 2 });
  });

  it('starts a stream only from a snapshot and ignores duplicates', () => {
    const { step, snapshot } = hubWithStream();
    const book = new TraderBook(5);
    const first = step([bar(0, '8.0000')]);
    expect(book.apply(first)).toMatchObject({ kind: 'gap', got: 1, needsSnapshot: true });
    expect(book.apply(snapshot())).toMatchObject({ kind: 'snapshot' });
    expect(book.apply(first)).toMatchObject({ kind: 'duplicate' });
    expect(() => book.apply(Buffer.from('garbage'))).toThrow(
      expect.objectContaining({ code: 'bad_identifier' }),
    );
    const next = step([bar(1, '8.1000')]);
    step([bar(2, '8.2000')]); // lost on the way
    const batch = book.applyMany([first, Buffer.from('garbage'), next, step([bar(3, '8.3000')])]);
    expect(batch).toMatchObject({ applied: 1, duplicates: 1, snapshots: 0, ignoredStale: 0 });
    expect(batch.issues.map((i) => [i.index, i.outcome.kind, i.outcome.code ?? i.outcome.got])).toEqual([
      [1, 'invalid', 'bad_identifier'],
      [3, 'gap', 4],
    ]);
    expect(batch.issues[1]?.outcome.needsSnapshot).toBe(true);
    // A batch of one frame (the native call without the array) reports the same way.
    const lone = book.applyMany([Buffer.from('garbage')]);
    expect(lone).toMatchObject({ applied: 0, duplicates: 0, snapshots: 0 });
    expect(lone.issues.map((i) => [i.index, i.outcome.kind, i.outcome.code])).toEqual([
      [0, 'invalid', 'bad_identifier'],
    ]);
    expect(lone.frames.result(0)).toBe('invalid');
    // The gap above left the stream stale until a snapshot: a delta is ignored, and said so.
    expect(book.applyMany([first]).frames.result(0)).toBe('stale');
  });

  /** A 5-bar book holding one bar of symbol 0's 1m series, its view, and the stream's next frames. */
  function oneBarSeries() {
    const { step, snapshot } = hubWithStream();
    const book = new TraderBook(5);
    book.apply(snapshot());
    book.apply(step([bar(0, '8.0000')]));
    const series = book.klineSeries(0, '1m');
    if (series === undefined) throw new Error('no series');
    return { book, series, step };
  }

  it('exposes live columns over native memory, without copying', () => {
    const { book, series, step } = oneBarSeries();
    expect(book.klineSeries(0, '1m')).toBe(series);
    const close = series.column('close');
    expect(Array.from(series.values('close'))).toEqual([8]);
    // Later frames show through the same array: it is a view, not a copy.
    for (let i = 1; i <= 6; i++) book.apply(step([bar(i, `8.${i}000`)]));
    expect(series.length).toBe(5);
    expect(Array.from(close)).toEqual([8.2, 8.3, 8.4, 8.5, 8.6]);
    expect(Array.from(series.values('openTime'))).toEqual([2, 3, 4, 5, 6].map((i) => T0 + i * 60_000));
    expect(series.values('trades').every((t) => t === 3)).toBe(true);
  });

  it('makes a column the first time it is asked for and hands back the same one after', () => {
    const { book, series, step } = oneBarSeries();
    // Rows past the bars held are NaN; later bars show through the same array.
    const high = series.column('high');
    expect(high).toHaveLength(5);
    expect(high.slice(1).every(Number.isNaN)).toBe(true);
    book.apply(step([bar(1, '8.1000')]));
    expect(series.column('high')).toBe(high);
    expect(Number.isNaN(high[1])).toBe(false);
    // Each column is its own stretch of the block, whichever is asked for first.
    const columns = KLINE_COLUMNS.slice()
      .reverse()
      .map((name) => series.column(name));
    expect(new Set(columns.map((c) => c.byteOffset)).size).toBe(KLINE_COLUMNS.length);
    expect(series.column('openTime')[0]).toBe(T0);
    expect(series.column('high')[0]).toBe(high[0]);
    expect(series.values('closed')).toHaveLength(2);
    expect(() => series.column('bid' as KlineColumn)).toThrow(RangeError);
    // A name every object has is still no column.
    expect(() => series.column('toString' as KlineColumn)).toThrow(RangeError);
  });

  it('lists every position and balance it holds, exact, by symbol and side and by asset', () => {
    const hub = new HubBook({ klineWindow: 5, symbols: ['SUSHIUSDT', 'BTCUSDT'] });
    const collector = new IngestEncoder(['SUSHIUSDT', 'BTCUSDT']);
    const position = (side: 'LONG' | 'SHORT' | 'BOTH', amount: string) => ({
      side,
      amount,
      entryPrice: '7.6110',
      unrealizedPnl: '-0.120',
      updateTime: T0,
    });
    collector.pushPosition(1, position('BOTH', '0.010'));
    collector.pushPosition(0, position('SHORT', '-3'));
    collector.pushPosition(0, position('LONG', '0'));
    collector.pushBalance({ asset: 'USDT', walletBalance: '1000.50', updateTime: T0 });
    collector.pushBalance({ asset: 'BNB', walletBalance: '0.00000001', updateTime: T0 });
    hub.ingest(collector.takeFrame(1, 0) as Buffer, 1, Date.now());
    const book = new TraderBook(5);
    expect(book.apply(hub.snapshotFrame(STREAM, 0, 0))).toMatchObject({ kind: 'snapshot' });
    expect(book.positions().map((p) => `${p.symbolId} ${p.position.side} ${p.position.amount}`)).toEqual([
      '0 LONG 0',
      '0 SHORT -3',
      '1 BOTH 0.010',
    ]);
    expect(book.positions()[2]?.position).toMatchObject({ entryPrice: '7.6110', unrealizedPnl: '-0.120' });
    expect(book.balances().map((b) => `${b.asset} ${b.walletBalance}`)).toEqual([
      'BNB 0.00000001',
      'USDT 1000.50',
    ]);
  });
});

describe('wire 2 through the binding', () => {
  /** Bars of the symbol with `trades` trades, so each round wins the merge. */
  const round = (trades: number): Kline[] =>
    [0, 1].map((i) => ({ ...bar(i, `8.${trades}000`), trades, volume: `${100 + trades}` }));

  it('applies compact frames exactly as TRB1 ones, and reports a row against a version the book lost', () => {
    const hub = new HubBook({ symbols: ['SUSHIUSDT'] });
    const collector = new IngestEncoder(['SUSHIUSDT']);
    const turn = (trades: number) => {
      collector.pushKlines(0, '1m', round(trades));
      return hub.ingestTurn([collector.takeFrame(1, T0) as Buffer], [1], T0 + 120_000).frames;
    };
    hub.addTopic(1, {});
    hub.addTopic(2, {}, 2);
    expect(() => hub.addTopic(3, {}, 4 as 3)).toThrow(/wire version/);
    turn(3);
    expect(hub.klineBases).toBe(2);
    const plain = new TraderBook();
    const compact = new TraderBook();
    const mixed = new TraderBook();
    for (const chunk of hub.topicSnapshotFrames(1, T0)) plain.apply(chunk);
    for (const chunk of hub.topicSnapshotFrames(2, T0)) compact.apply(chunk);
    for (const chunk of hub.topicSnapshotFrames(1, T0)) mixed.apply(chunk);
    for (const chunk of hub.topicSnapshotFrames(2, T0)) mixed.apply(chunk);
    const frames = turn(4);
    const [wire1, wire2] = [frames[0]?.frame as Buffer, frames[1]?.frame as Buffer];
    expect(wire2.length * 3).toBeLessThan(wire1.length);
    expect(plain.apply(wire1).kind).toBe('applied');
    expect(compact.apply(wire2).kind).toBe('applied');
    expect(compact.klines(0, '1m')).toEqual(plain.klines(0, '1m'));
    // A book following both encodings: the wire-1 frame wrote the bars without a turn, so the
    // wire-2 rows of them cannot be checked against their base.
    expect(mixed.apply(wire1).kind).toBe('applied');
    const outcome = mixed.apply(wire2);
    expect(outcome).toMatchObject({ kind: 'baseMismatch', stream: 2, rows: 2, needsSnapshot: true });
    expect(mixed.isStale(2)).toBe(true);
    expect(mixed.stats().baseMismatches).toBe(2);
    // Stale until a snapshot: what follows is ignored, and a snapshot repairs it.
    expect(mixed.applyMany([wire2]).frames.result(0)).toBe('stale');
    for (const chunk of hub.topicSnapshotFrames(2, T0)) mixed.apply(chunk);
    expect(mixed.isStale(2)).toBe(false);
    expect(mixed.klines(0, '1m')).toEqual(plain.klines(0, '1m'));
  });
});
