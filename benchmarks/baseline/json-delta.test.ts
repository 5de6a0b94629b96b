import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import { captureMessages } from '../../ts/native/testing/capture.js';
import { TraderBook } from '../../ts/native/trader-book.js';
import type { JsIntervalName } from './interval.js';
import { encodeJsonDelta, encodeJsonSnapshot, JS_KLINE_COLUMNS, JsTraderBook } from './json-delta.js';
import { JsMergeBook } from './merge-book.js';
import type { JsDelta } from './records.js';

const STREAM = 5;
const SIDES = ['BOTH', 'LONG', 'SHORT'] as const;
const T0 = 1_626_992_700_000;
const MIN = 60_000;

/**
 * Collector → hub → trader twice: natively (Ingest frames, HubBook, Delta/Snapshot frames,
 * TraderBook) and in TypeScript (JsMergeBook, JSON frames, JsTraderBook), one turn per call.
 */
class Pipelines {
  readonly #symbols: string[];
  readonly #encoder: IngestEncoder;
  readonly hub: HubBook;
  readonly trader: TraderBook;
  readonly #deltas: JsDelta[] = [];
  readonly js = new JsMergeBook(this.#deltas);
  readonly jsTrader: JsTraderBook;
  seq = 0;
  frames = 0;

  constructor(symbols: string[], traderWindow?: number) {
    this.#symbols = symbols;
    this.#encoder = new IngestEncoder(symbols);
    this.hub = new HubBook({ symbols });
    this.trader = new TraderBook(traderWindow);
    this.jsTrader = new JsTraderBook(traderWindow);
  }

  /** Both traders start from the hub's snapshot (or resynchronise with it after a gap). */
  snapshot(): void {
    const native = this.trader.apply(this.hub.snapshotFrame(STREAM, this.seq, 0));
    const js = this.jsTrader.applyJson(encodeJsonSnapshot(STREAM, this.seq, this.js.snapshot()));
    expect(js).toEqual(native);
  }

  /**
   * Merges one turn's input on both hubs and sends what changed (unless `lose` drops it); returns
   * the two frames, or null when nothing changed.
   */
  turn(
    merge: { native: (encoder: IngestEncoder) => void; js: (book: JsMergeBook) => void },
    lose = false,
  ): { native: Buffer; json: string } | null {
    merge.native(this.#encoder);
    const ingest = this.#encoder.takeFrame(1, 0);
    if (ingest !== null) this.hub.ingest(ingest, 1, Date.now());
    merge.js(this.js);
    const next = this.seq + 1;
    const native = this.hub.takeDeltaFrame(STREAM, next, 0);
    const json = this.#deltas.length === 0 ? null : encodeJsonDelta(STREAM, next, this.#deltas);
    this.#deltas.length = 0;
    expect(json === null).toBe(native === null);
    if (native === null || json === null) return null;
    this.seq = next;
    this.frames += 1;
    if (!lose) this.apply({ native, json });
    return { native, json };
  }

  /** Applies a frame pair to both traders; they must report the same outcome. */
  apply(frames: { native: Buffer; json: string }): void {
    expect(this.jsTrader.applyJson(frames.json)).toEqual(this.trader.apply(frames.native));
  }

  market(message: string, lose = false): void {
    this.turn(
      {
        native: (encoder) => expect(encoder.pushMarketEvents([Buffer.from(message)]).failures).toEqual([]),
        js: (book) => {
          if (message.includes('"e":"kline"')) book.mergeKlineMessage(message);
          else book.mergeBookTickerMessage(message);
        },
      },
      lose,
    );
  }

  rest(
    body: string,
    symbol: string,
    serverTimeMs: number,
    lose = false,
  ): { native: Buffer; json: string } | null {
    const id = this.#symbols.indexOf(symbol);
    return this.turn(
      {
        native: (encoder) => encoder.pushRestKlines(id, '1m', Buffer.from(body), serverTimeMs),
        js: (book) => book.mergeRestKlines(body, symbol, '1m', serverTimeMs),
      },
      lose,
    );
  }

  account(message: string): void {
    this.turn({
      native: (encoder) => encoder.pushUserEvent(Buffer.from(message)),
      js: (book) => book.mergeAccountUpdate(message),
    });
  }

  /** Both traders hold the same values (and the JSON trader the JS hub's bars). */
  expectSameTraders(intervals: JsIntervalName[], assets: string[] = []): void {
    this.#symbols.forEach((symbol, id) => {
      for (const interval of intervals) {
        const native = this.trader.klineSeries(id, interval);
        const js = this.jsTrader.klineSeries(symbol, interval);
        expect(js?.length, `${symbol} ${interval}`).toBe(native?.length);
        for (const column of JS_KLINE_COLUMNS) {
          expect(Array.from(js?.values(column) ?? []), `${symbol} ${interval} ${column}`).toEqual(
            Array.from(native?.values(column) ?? []),
          );
        }
        const hubBars = this.js.klines(symbol, interval).slice(-this.jsTrader.window);
        expect(Array.from(js?.values('close') ?? [])).toEqual(hubBars.map((k) => k.close));
      }
      const tick = this.jsTrader.tick(symbol);
      expect(
        tick && [
          tick.bid,
          tick.bidQty,
          tick.ask,
          tick.askQty,
          tick.last ?? Number.NaN,
          tick.time,
          tick.updateId ?? Number.NaN,
        ],
        symbol,
      ).toEqual(this.trader.tickValues(id) && Array.from(this.trader.tickValues(id) ?? []));
      for (const side of SIDES) {
        const p = this.jsTrader.position(symbol, side);
        const values = this.trader.positionValues(id, side);
        expect(
          p && [
            p.amount,
            p.entryPrice ?? Number.NaN,
            p.unrealizedPnl ?? Number.NaN,
            p.markPrice ?? Number.NaN,
            p.updateTime,
          ],
          `${symbol} ${side}`,
        ).toEqual(values && Array.from(values));
      }
    });
    for (const asset of assets) {
      const b = this.jsTrader.balance(asset);
      const values = this.trader.balanceValues(asset);
      expect(
        b && [
          b.walletBalance,
          b.crossWalletBalance ?? Number.NaN,
          b.availableBalance ?? Number.NaN,
          b.unrealizedPnl ?? Number.NaN,
          b.updateTime,
        ],
        asset,
      ).toEqual(values && Array.from(values));
    }
    // The JSON baseline sends a snapshot as one message: it has no chunks to count. It mirrors wire 1,
    // where the compact-row counters of wire 2 must stay zero.
    const {
      wrongKind: _,
      snapshotChunks: __,
      snapshotsDropped: ___,
      baseMismatches,
      rowsAlreadyHeld,
      unrepresentableKlines,
      ...native
    } = this.trader.stats();
    // Decoded frames never carry a kline the wire cannot: that counter stays zero too.
    expect({ baseMismatches, rowsAlreadyHeld, unrepresentableKlines }).toEqual({
      baseMismatches: 0,
      rowsAlreadyHeld: 0,
      unrepresentableKlines: 0,
    });
    expect(this.jsTrader.stats()).toEqual(native);
  }
}

function restBody(rows: [number, string, number][]): string {
  return JSON.stringify(
    rows.map(([i, close, trades]) => [
      T0 + i * MIN,
      '10.0',
      '12.5',
      '8.5',
      close,
      '6.000',
      T0 + i * MIN + MIN - 1,
      '101.00',
      trades,
      '0.500',
      '50.00',
      '0',
    ]),
  );
}

describe('JSON deltas and JsTraderBook do the work of Delta frames and the native trader book', () => {
  it('converge to the same series on the real capture, through a lost frame and a snapshot', () => {
    const messages = captureMessages('JSON deltas capture');
    if (messages === undefined) return;
    const market = messages.filter((m) => m.includes('"e":"kline"') || m.includes('"e":"bookTicker"'));
    const pipelines = new Pipelines(['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT']);
    pipelines.snapshot();
    // From a third of the way, the first frame sent is lost; three frames later both traders are
    // stale and resynchronise from a snapshot.
    const loseFrom = Math.floor(market.length / 3);
    let phase: 'before' | 'lost' | 'resynced' = 'before';
    let lostFrame = 0;
    market.forEach((message, i) => {
      const lose = phase === 'before' && i >= loseFrom;
      pipelines.market(message, lose);
      if (lose && pipelines.frames > lostFrame) {
        phase = 'lost';
        lostFrame = pipelines.frames;
      } else if (phase === 'lost' && pipelines.frames >= lostFrame + 3) {
        expect(pipelines.jsTrader.staleStreams()).toEqual([STREAM]);
        expect(pipelines.trader.staleStreams()).toEqual([STREAM]);
        pipelines.snapshot();
        phase = 'resynced';
      }
    });
    expect(phase).toBe('resynced');
    expect(pipelines.jsTrader.isStale(STREAM)).toBe(false);
    pipelines.expectSameTraders(['1m']);
    expect(pipelines.frames).toBeGreaterThan(600);
    expect(pipelines.jsTrader.stats()).toMatchObject({ gaps: 1, snapshots: 2 });
    expect(pipelines.jsTrader.stats().ignoredWhileStale).toBeGreaterThan(0);
  });

  it('apply window shifts, inserts, drops, accounts, duplicates and gaps like the native book', () => {
    const pipelines = new Pipelines(['BTCUSDT', 'ETHUSDT'], 3);
    pipelines.snapshot();
    // Not full: append, replace the newest, insert a missing bar.
    const first = pipelines.rest(restBody([[1, '11', 4]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[3, '11', 4]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[3, '11.5', 5]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[2, '12', 4]]), 'BTCUSDT', T0);
    pipelines.expectSameTraders(['1m']);
    // Full: a newer bar shifts the oldest out, a missing one inside the window goes in, an older
    // one than the whole window is dropped by the trader (the hub keeps 45).
    pipelines.rest(restBody([[5, '11', 4]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[4, '11', 4]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[0, '11', 4]]), 'BTCUSDT', T0);
    pipelines.expectSameTraders(['1m']);
    expect(pipelines.jsTrader.stats().oldKlinesDropped).toBe(1);
    const series = pipelines.jsTrader.klineSeries('BTCUSDT', '1m');
    expect(Array.from(series?.values('openTime') ?? [])).toEqual([3, 4, 5].map((i) => T0 + i * MIN));
    expect(series?.column('close')).toHaveLength(3);

    pipelines.account(
      JSON.stringify({
        e: 'ACCOUNT_UPDATE',
        E: T0 + 11,
        T: T0 + 10,
        a: {
          m: 'ORDER',
          B: [{ a: 'USDT', wb: '500.5', cw: '400.25', bc: '0' }],
          P: [{ s: 'ETHUSDT', pa: '-2.5', ep: '3000.1', bep: '3000.2', up: '-1.5', ps: 'SHORT' }],
        },
      }),
    );
    const tick = JSON.stringify({
      e: 'bookTicker',
      u: 9,
      s: 'ETHUSDT',
      b: '1.5',
      B: '2',
      a: '1.6',
      A: '3',
      T: T0 + 5,
      E: T0 + 6,
    });
    pipelines.market(tick);
    pipelines.expectSameTraders(['1m'], ['USDT']);

    // A lost frame: the next delta is a gap, the one after is ignored, a snapshot resynchronises;
    // replaying an old snapshot afterwards is a duplicate.
    const oldSnapshot = {
      native: pipelines.hub.snapshotFrame(STREAM, pipelines.seq, 0),
      json: encodeJsonSnapshot(STREAM, pipelines.seq, pipelines.js.snapshot()),
    };
    pipelines.rest(restBody([[6, '11', 4]]), 'BTCUSDT', T0, true);
    pipelines.rest(restBody([[7, '11', 4]]), 'BTCUSDT', T0);
    pipelines.rest(restBody([[8, '11', 4]]), 'BTCUSDT', T0);
    expect(pipelines.jsTrader.isStale(STREAM)).toBe(true);
    pipelines.snapshot();
    pipelines.rest(restBody([[9, '11', 4]]), 'BTCUSDT', T0);
    pipelines.apply(oldSnapshot);
    if (first === null) throw new Error('the first bar changed nothing');
    pipelines.apply(first);
    pipelines.expectSameTraders(['1m'], ['USDT']);
    expect(pipelines.jsTrader.stats()).toMatchObject({
      gaps: 1,
      ignoredWhileStale: 1,
      duplicates: 2,
      snapshots: 2,
    });
  });

  it('starts a stream only from a snapshot and rejects text that is not a frame', () => {
    const book = new JsTraderBook();
    expect(book.applyJson(encodeJsonDelta(9, 1, []))).toEqual({
      kind: 'gap',
      stream: 9,
      got: 1,
      needsSnapshot: true,
    });
    expect(book.applyJson(encodeJsonDelta(9, 2, []))).toMatchObject({ kind: 'stale' });
    expect(() => book.applyJson('{"type":"delta","stream":9}')).toThrow(/not a JSON delta/);
    expect(() => book.applyJson('{"type":"delta","stream":9,"seq":3,"deltas":[{"kind":"x"}]}')).toThrow(
      /known deltas/,
    );
    expect(() => book.applyJson('[1')).toThrow(SyntaxError);
    expect(book.staleStreams()).toEqual([9]);
  });
});
