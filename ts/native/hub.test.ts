import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from './hub.js';
import { NativeError } from './native-error.js';
import type { Kline, Position } from './records.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const BTC = 0;
const T0 = 1778198400000;
/** The hub's clock in these tests: a minute after T0. */
const NOW = T0 + 60_000;

function bar(overrides: Partial<Kline>): Kline {
  return {
    openTime: T0,
    closeTime: T0 + 59_999,
    open: '100.0',
    high: '101.0',
    low: '99.0',
    close: '100.5',
    volume: '10.000',
    quoteVolume: '1005.0000',
    trades: 10,
    takerBuyVolume: '5.000',
    takerBuyQuoteVolume: '502.5000',
    closed: false,
    asOf: 0,
    ...overrides,
  };
}

/** One collector sending one Ingest frame to the hub; returns the hub's delta count. */
function send(hub: HubBook, source: number, fill: (c: IngestEncoder) => void): number {
  const collector = new IngestEncoder(SYMBOLS);
  fill(collector);
  const frame = collector.takeFrame(source, 0);
  if (frame === null) throw new Error('nothing to send');
  hub.ingest(frame, source, NOW + source);
  const pending = hub.pendingDeltas;
  hub.takeDeltaFrame(1, 1, 0);
  return pending;
}

describe('merge book through Ingest frames', () => {
  it('takes the open bar that has seen more trades, and keeps extremes', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    expect(send(hub, 1, (c) => c.pushKlines(BTC, '1m', [bar({})]))).toBe(1);
    // Fewer trades: ignored, whatever its prices.
    expect(
      send(hub, 2, (c) => c.pushKlines(BTC, '1m', [bar({ trades: 9, close: '90.0', low: '90.0' })])),
    ).toBe(0);
    // Same trades, more volume: wins. High only rises, low only falls.
    expect(
      send(hub, 3, (c) => c.pushKlines(BTC, '1m', [bar({ volume: '11.000', high: '100.9', low: '99.5' })])),
    ).toBe(1);
    const [entry] = hub.klines(BTC, '1m');
    expect(entry?.kline).toMatchObject({ volume: '11.000', high: '101.0', low: '99.0' });
    expect(entry?.from).toEqual({ source: 3, receivedAt: NOW + 3 });
    // A closed bar is final.
    expect(send(hub, 4, (c) => c.pushKlines(BTC, '1m', [bar({ trades: 12, closed: true })]))).toBe(1);
    expect(send(hub, 5, (c) => c.pushKlines(BTC, '1m', [bar({ trades: 50, volume: '99.000' })]))).toBe(0);
    expect(hub.klines(BTC, '1m')[0]?.kline).toMatchObject({ trades: 12, closed: true });
    expect(hub.stats().klines).toMatchObject({ applied: 3, ignoredClosed: 1, ignoredNotMoreTrades: 1 });
  });

  it('corrects the open bar from a newer traded price inside it, never from bid/ask', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    send(hub, 1, (c) => c.pushKlines(BTC, '1m', [bar({ asOf: T0 + 10_000 })]));
    // A book whose midpoint (102) would be a new high: a tick delta only, the bar stays.
    const book = { bid: '101.9', bidQty: '1', ask: '102.1', askQty: '1', time: T0 + 20_000 };
    expect(send(hub, 2, (c) => c.pushTick(BTC, book))).toBe(1);
    expect(hub.klines(BTC, '1m')[0]?.kline).toMatchObject({ close: '100.5', high: '101.0' });
    // A traded price (as ticker/price gives it: no book) corrects it, and joins the stored book.
    const traded = { bid: '0', bidQty: '0', ask: '0', askQty: '0', last: '102.0', time: T0 + 19_000 };
    expect(send(hub, 3, (c) => c.pushTick(BTC, traded))).toBe(2);
    expect(hub.klines(BTC, '1m')[0]?.kline).toMatchObject({ close: '102.0', high: '102.0' });
    expect(hub.tick(BTC)?.tick).toMatchObject({
      bid: '101.9',
      ask: '102.1',
      last: '102.0',
      time: T0 + 20_000,
    });
    // An older traded price is dropped and corrects nothing.
    expect(send(hub, 4, (c) => c.pushTick(BTC, { ...traded, last: '50.0', time: T0 + 15_000 }))).toBe(0);
    expect(hub.stats().ticks.droppedOlder).toBe(1);
  });

  it('keeps the newest position by exchange time whichever source arrives first', () => {
    const older: Position = { side: 'BOTH', amount: '1.000', entryPrice: '100.0', updateTime: T0 + 10 };
    const newer: Position = { side: 'BOTH', amount: '2.000', entryPrice: '101.0', updateTime: T0 + 20 };
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const hub = new HubBook({ symbols: SYMBOLS });
      order.forEach((p, i) => {
        send(hub, i + 1, (c) => c.pushPosition(BTC, p));
      });
      expect(hub.position(BTC, 'BOTH')?.position).toMatchObject({ amount: '2.000', entryPrice: '101.0' });
    }
  });

  it('treats the ban list as a command: last writer wins, no delta when equal', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    expect(send(hub, 1, (c) => c.setBanList({ all: false, symbols: [1, 0] }))).toBe(1);
    expect(send(hub, 2, (c) => c.setBanList({ all: false, symbols: [0, 1, 1] }))).toBe(0);
    expect(send(hub, 3, (c) => c.setBanList({ all: true, symbols: [] }))).toBe(1);
    expect(hub.banList()).toEqual({ all: true, symbols: [] });
  });

  it('parses raw exchange payloads on the collector and skips unknown symbols', () => {
    const collector = new IngestEncoder(SYMBOLS);
    const result = collector.pushMarketEvents([
      Buffer.from(
        '{"e":"bookTicker","u":1,"s":"ETHUSDT","b":"3000.10","B":"2","a":"3000.20","A":"1","T":1778198400100,"E":1778198400101}',
      ),
      Buffer.from('{"e":"bookTicker","u":1,"s":"XRPUSDT","b":"1","B":"1","a":"2","A":"1","T":1,"E":1}'),
      Buffer.from('{"e":"aggTrade"'),
    ]);
    expect(result.added).toBe(1);
    expect(result.failures.map((f) => f.code)).toEqual(['truncated']);
    expect(collector.unknownSymbols).toBe(1);
    const hub = new HubBook({ symbols: SYMBOLS });
    const frame = collector.takeFrame(9, 0);
    expect(frame).not.toBeNull();
    expect(collector.takeFrame(9, 0)).toBeNull();
    hub.ingest(frame as Buffer, 9, NOW);
    expect(hub.tick(1)).toMatchObject({ tick: { bid: '3000.10' }, from: { source: 9, receivedAt: NOW } });
  });

  it('rejects garbage frames with a typed error and keeps serving', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    expect(() => hub.ingest(Buffer.from('not a frame at all'), 1, NOW)).toThrow(NativeError);
    const many = hub.ingestFrom([Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])], [1, 2], NOW);
    expect(many.failures.map((f) => [f.index, f.code])).toEqual([
      [0, 'bad_identifier'],
      [1, 'bad_identifier'],
    ]);
    const delta = new HubBook({ symbols: SYMBOLS });
    send(delta, 1, (c) => c.pushKlines(BTC, '1m', [bar({})]));
    expect(() => hub.ingest(delta.snapshotFrame(1, 1, 0), 1, NOW)).toThrow(/expected an ingest frame/);
    // An invalid bar is refused alone; the rest of the frame applies.
    const collector = new IngestEncoder(SYMBOLS);
    collector.pushKlines(BTC, '1m', [
      bar({ high: '1.0' }),
      bar({ openTime: T0 + 60_000, closeTime: T0 + 119_999 }),
    ]);
    const result = hub.ingest(collector.takeFrame(1, 0) as Buffer, 1, NOW);
    expect(result.changed).toBe(1);
    expect(result.rejected).toEqual([
      { index: 0, entity: 'kline', code: 'invalid_kline', message: expect.stringMatching(/high/) },
    ]);
    expect(hub.stats().klines.rejectedInvalid).toBe(1);
  });

  it('merges raw payloads in-process exactly as it merges the same payloads sent as frames', () => {
    const messages = [
      '{"e":"kline","E":1778198401000,"s":"ETHUSDT","k":{"t":1778198400000,"T":1778198459999,"s":"ETHUSDT","i":"1m","f":1,"L":3,"o":"3000.10","c":"3000.30","h":"3000.30","l":"3000.00","v":"1.500","n":3,"x":false,"q":"4500.30000","V":"1.000","Q":"3000.20000","B":"0"}}',
      '{"e":"bookTicker","u":9,"s":"ETHUSDT","b":"3000.40","B":"2","a":"3000.60","A":"1","T":1778198402000,"E":1778198402001}',
      '{"e":"depthUpdate","E":1}',
    ].map((m) => Buffer.from(m));
    const direct = new HubBook({ symbols: SYMBOLS });
    const result = direct.mergeMarketEvents(messages, 4, NOW);
    expect(result).toMatchObject({ changed: 2, unchanged: 0, dropped: 0, rejected: [] });
    // Two records changed; a book tick corrects no bar (nothing traded at bid/ask): two deltas.
    expect(direct.pendingDeltas).toBe(2);
    expect(result.failures.map((f) => [f.index, f.code])).toEqual([[2, 'unsupported_event']]);

    const viaFrames = new HubBook({ symbols: SYMBOLS });
    const collector = new IngestEncoder(SYMBOLS);
    collector.pushMarketEvents(messages);
    viaFrames.ingest(collector.takeFrame(4, 0) as Buffer, 4, NOW);
    expect(direct.klines(1, '1m')).toEqual(viaFrames.klines(1, '1m'));
    expect(direct.klines(1, '1m')[0]?.kline).toMatchObject({ close: '3000.30', high: '3000.30' });
    expect(direct.tick(1)).toEqual(viaFrames.tick(1));

    const account = direct.mergeUserEvents(
      [
        Buffer.from(
          '{"e":"ACCOUNT_UPDATE","E":1778198405000,"T":1778198404000,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"100.5","cw":"100.5","bc":"0"}],"P":[{"s":"BTCUSDT","pa":"0.010","ep":"80000.0","bep":"80010.0","cr":"0","up":"0.1","mt":"cross","iw":"0","ps":"BOTH"}]}}',
        ),
      ],
      5,
      NOW,
    );
    expect(account.changed).toBe(2);
    expect(direct.position(0, 'BOTH')).toMatchObject({ position: { amount: '0.010' }, from: { source: 5 } });
    const rest = direct.mergeRestKlines(
      0,
      '1m',
      Buffer.from(
        '[[1778198400000,"80000.0","80001.0","79999.0","80000.5","2.000",1778198459999,"160001.0000",7,"1.000","80000.5000","0"]]',
      ),
      1778198400500,
      6,
      NOW,
    );
    expect(rest).toEqual({ changed: 1, unchanged: 0, dropped: 0, rejected: [], failures: [] });
    // The same bar again, and a bar that is not a 1m bar (refused with its reason).
    const row =
      '[1778198400000,"80000.0","80001.0","79999.0","80000.5","2.000",1778198459999,"160001.0000",7,"1.000","80000.5000","0"]';
    const misaligned = row.replace('1778198400000', '1778198400001');
    const again = direct.mergeRestKlines(
      0,
      '1m',
      Buffer.from(`[${row},${misaligned}]`),
      1778198400500,
      6,
      NOW,
    );
    expect(again).toMatchObject({ changed: 0, unchanged: 1, dropped: 0, failures: [] });
    expect(again.rejected).toEqual([
      { index: 0, entity: 'kline', code: 'invalid_kline', message: expect.stringMatching(/1m/) },
    ]);
    expect(direct.mergeRestKlines(0, '1m', Buffer.from('[]'), 0, 6, NOW)).toEqual({
      changed: 0,
      unchanged: 0,
      dropped: 0,
      rejected: [],
      failures: [],
    });
    expect(() => direct.mergeRestKlines(0, '1m', Buffer.from('[[1'), 0, 6, NOW)).toThrow(NativeError);
  });
});

/** One collector's frame of `fill`'s records. */
function frameOf(fill: (c: IngestEncoder) => void): Buffer {
  const collector = new IngestEncoder(SYMBOLS);
  fill(collector);
  const frame = collector.takeFrame(99, 0);
  if (frame === null) throw new Error('nothing to send');
  return frame;
}

describe('hub book: one call per turn', () => {
  it('merges every frame of a turn, reports what it refused and could not decode, and yields each topic frame', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(1, {});
    hub.addTopic(2, { symbols: [1], kinds: ['tick'] });
    const a = frameOf((c) => {
      c.pushKlines(BTC, '1m', [bar({})]);
      c.pushTick(1, { bid: '3000.1', bidQty: '1', ask: '3000.2', askQty: '1', time: NOW - 5 });
    });
    // Id 2 is not registered; a balance stamped in microseconds would win every later merge.
    const b = frameOf((c) => {
      c.pushKlines(2, '1m', [bar({})]);
      c.pushBalance({ asset: 'USDT', walletBalance: '1.00', updateTime: NOW * 1000 });
    });
    const turn = hub.ingestTurn([a, Buffer.from('garbage!'), b], [4, 5, 6], NOW);
    expect(turn).toMatchObject({ changed: 2, unchanged: 0, dropped: 0, deltas: 2, encodeFailures: [] });
    expect(turn.refused.map((r) => [r.index, r.entity, r.code])).toEqual([
      [2, 'kline', 'unknown_symbol'],
      [2, 'balance', 'time_in_future'],
    ]);
    expect(turn.undecodable.map((f) => [f.index, f.code])).toEqual([[1, 'bad_identifier']]);
    expect(turn.frames.map((f) => [f.stream, f.seq])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(hub.tick(1)?.from).toEqual({ source: 4, receivedAt: NOW });
    expect(hub.balance('USDT')).toBeNull();
    expect(hub.stats().refused).toMatchObject({ unknown_symbol: 1, time_in_future: 1, unrepresentable: 0 });
    // Registering the symbol admits its records.
    hub.addSymbols(['SOLUSDT']);
    expect(hub.symbolCount).toBe(3);
    expect(hub.ingestTurn([b], [6], NOW).changed).toBe(1);
    // The lists must pair up.
    expect(() => hub.ingestTurn([a], [], NOW)).toThrow(NativeError);
  });

  it("hands out a turn's frames as copies the next turn leaves alone, and a turn too large for the scratch whole", () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(1, {});
    hub.addTopic(2, { kinds: ['kline'] }, 2);
    const first = hub.ingestTurn([frameOf((c) => c.pushKlines(BTC, '1m', [bar({})]))], [1], NOW).frames;
    const kept = first.map((f) => Buffer.from(f.frame));
    const second = hub.ingestTurn([frameOf((c) => c.pushKlines(BTC, '1m', [bar({ trades: 11 })]))], [1], NOW);
    expect(first.map((f, i) => f.frame.equals(kept[i] as Buffer))).toEqual([true, true]);
    expect(second.frames.map((f) => [f.stream, f.seq])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    // 1,100 subscription streams: more frames than the scratch's index holds, so they spill.
    for (let stream = 3; stream <= 1_100; stream++) hub.addTopic(stream, {});
    const spilled = hub.ingestTurn(
      [frameOf((c) => c.pushKlines(BTC, '1m', [bar({ trades: 12 })]))],
      [1],
      NOW,
    );
    expect(spilled.frames.length).toBe(1_100);
    expect(spilled.frames.map((f) => f.stream)).toEqual(Array.from({ length: 1_100 }, (_, i) => i + 1));
    expect(spilled.frames.map((f) => f.seq).slice(0, 3)).toEqual([3, 3, 1]);
    const pending = hub.takeTopicFrames(NOW);
    expect(pending.frames).toEqual([]);
  });

  it("hands out a turn's frames as views over the scratch when asked: the same bytes, until the next turn", () => {
    const twin = (): HubBook => {
      const hub = new HubBook({ symbols: SYMBOLS });
      hub.addTopic(1, {});
      hub.addTopic(2, { kinds: ['kline'] }, 2);
      return hub;
    };
    const copying = twin();
    const viewing = twin();
    const turns = [
      frameOf((c) => c.pushKlines(BTC, '1m', [bar({})])),
      frameOf((c) => c.pushKlines(BTC, '1m', [bar({ trades: 11 })])),
    ];
    const copied = turns.map((frame) => copying.ingestTurn([frame], [1], NOW).frames);
    const first = viewing.ingestTurn([turns[0] as Buffer], [1], NOW, 'views').frames;
    expect(first.map((f) => [f.stream, f.seq])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(first.map((f, i) => f.frame.equals(copied[0]?.[i]?.frame as Buffer))).toEqual([true, true]);
    // The next turn writes its own frames where these were: a view is for handing on at once.
    const second = viewing.ingestTurn([turns[1] as Buffer], [1], NOW, 'views').frames;
    expect(second.map((f, i) => f.frame.equals(copied[1]?.[i]?.frame as Buffer))).toEqual([true, true]);
    expect(first[0]?.frame.buffer).toBe(second[0]?.frame.buffer);
    expect(first[0]?.frame.equals(copied[0]?.[0]?.frame as Buffer)).toBe(false);
  });

  it('refuses a tick price the open bar cannot carry on the wire, and keeps encoding', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(1, {});
    hub.ingestTurn([frameOf((c) => c.pushKlines(BTC, '1m', [bar({ asOf: T0 + 1_000 })]))], [1], NOW);
    const tiny = '0.000000000000000001';
    const turn = hub.ingestTurn(
      [
        frameOf((c) =>
          c.pushTick(BTC, { bid: tiny, bidQty: '1', ask: tiny, askQty: '1', last: tiny, time: T0 + 2_000 }),
        ),
      ],
      [1],
      NOW,
    );
    expect(turn.refused.map((r) => r.code)).toEqual(['unrepresentable']);
    expect(turn.frames).toEqual([]);
    expect(hub.topicSnapshotFrames(1, NOW)).toHaveLength(1);
  });

  it('serves the hub server’s stepwise calls over the registry it holds', () => {
    const hub = new HubBook({ symbols: SYMBOLS });
    hub.addTopic(3, { kinds: ['kline'] });
    // An id the registry does not hold is refused, whatever the merge book could store.
    const merged = hub.ingestFrom(
      [
        frameOf((c) => c.pushKlines(BTC, '1m', [bar({})])),
        frameOf((c) => c.pushKlines(40_000, '1m', [bar({})])),
      ],
      [2, 3],
      NOW,
    );
    expect(merged.changed).toBe(1);
    expect(merged.rejected.map((r) => [r.index, r.code])).toEqual([[1, 'unknown_symbol']]);
    const taken = hub.takeTopicFrames(NOW);
    expect(taken.frames.map((f) => [f.stream, f.seq])).toEqual([[3, 1]]);
    expect(hub.topicSeq(3)).toBe(1);
    expect(hub.topicSnapshotFrame(3, NOW).length).toBeGreaterThan(100);
    expect(hub.removeTopic(3)).toBe(true);
    expect(() => hub.topicSnapshotFrame(3, NOW)).toThrow(/does not exist/);
  });
});
