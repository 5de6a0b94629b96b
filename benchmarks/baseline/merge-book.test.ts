import { describe, expect, it } from 'vitest';
import { HubBook, IngestEncoder } from '../../ts/native/hub.js';
import { captureMessages } from '../../ts/native/testing/capture.js';
import type { JsIntervalName } from './interval.js';
import { JsMergeBook } from './merge-book.js';
import type { JsDelta } from './records.js';
import {
  balanceAsNumbers,
  klineAsNumbers,
  positionAsNumbers,
  tickAsNumbers,
} from './testing/native-records.js';

const CAPTURE_SYMBOLS = ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'];
const SIDES = ['BOTH', 'LONG', 'SHORT'] as const;
/** 2021-07-22 22:25:00 UTC, a minute boundary. */
const T0 = 1_626_992_700_000;
const MIN = 60_000;

/** The same inputs through the native collector → hub path and through JsMergeBook. */
class BothPaths {
  readonly deltas: JsDelta[] = [];
  readonly js: JsMergeBook;
  readonly hub: HubBook;
  nativeDeltas = 0;
  readonly #encoder: IngestEncoder;
  readonly #symbols: string[];

  constructor(symbols: string[], klineWindow?: number) {
    this.#symbols = symbols;
    this.js = new JsMergeBook(this.deltas, klineWindow);
    this.hub = new HubBook(klineWindow === undefined ? { symbols } : { klineWindow, symbols });
    this.#encoder = new IngestEncoder(symbols);
  }

  id(symbol: string): number {
    const id = this.#symbols.indexOf(symbol);
    if (id < 0) throw new Error(`${symbol} is not registered`);
    return id;
  }

  /** Websocket kline / bookTicker messages, as one collector batch on the native side. */
  market(messages: string[]): void {
    const pushed = this.#encoder.pushMarketEvents(messages.map((m) => Buffer.from(m)));
    expect(pushed.failures).toEqual([]);
    this.#send();
    for (const message of messages) {
      if (message.includes('"e":"kline"')) this.js.mergeKlineMessage(message);
      else this.js.mergeBookTickerMessage(message);
    }
  }

  /** A traded price without a book (as `ticker/price` gives it), one collector batch. */
  traded(symbol: string, price: string, time: number): void {
    this.#encoder.pushTick(this.id(symbol), {
      bid: '0',
      bidQty: '0',
      ask: '0',
      askQty: '0',
      last: price,
      time,
    });
    this.#send();
    this.js.mergeTick(symbol, {
      bid: 0,
      bidQty: 0,
      ask: 0,
      askQty: 0,
      last: Number(price),
      time,
      updateId: null,
    });
  }

  account(message: string): void {
    this.#encoder.pushUserEvent(Buffer.from(message));
    this.#send();
    this.js.mergeAccountUpdate(message);
  }

  rest(body: string, symbol: string, interval: JsIntervalName, serverTimeMs: number): void {
    this.#encoder.pushRestKlines(this.id(symbol), interval, Buffer.from(body), serverTimeMs);
    this.#send();
    this.js.mergeRestKlines(body, symbol, interval, serverTimeMs);
  }

  /** Same bars, ticks, positions, balances, counters and number of deltas on both paths. */
  expectSame(intervals: JsIntervalName[], assets: string[] = []): void {
    for (const symbol of this.#symbols) {
      const id = this.id(symbol);
      for (const interval of intervals) {
        const native = this.hub.klines(id, interval).map((entry) => klineAsNumbers(entry.kline));
        expect(this.js.klines(symbol, interval), `${symbol} ${interval}`).toEqual(native);
      }
      const tick = this.hub.tick(id);
      expect(this.js.tick(symbol), symbol).toEqual(tick === null ? undefined : tickAsNumbers(tick.tick));
      for (const side of SIDES) {
        const position = this.hub.position(id, side);
        expect(this.js.position(symbol, side), `${symbol} ${side}`).toEqual(
          position === null ? undefined : positionAsNumbers(position.position),
        );
      }
    }
    for (const asset of assets) {
      const balance = this.hub.balance(asset);
      expect(this.js.balance(asset), asset).toEqual(
        balance === null ? undefined : balanceAsNumbers(balance.balance),
      );
    }
    // The baseline checks no records before merging (the native admission is not part of the work compared).
    const { banList: _, refused, marks: _marks, ...native } = this.hub.stats();
    expect(Object.values(refused).every((n) => n === 0)).toBe(true);
    expect(this.js.stats()).toEqual(native);
    expect(this.deltas.length).toBe(this.nativeDeltas);
  }

  #send(): void {
    const frame = this.#encoder.takeFrame(1, 0);
    if (frame === null) return;
    this.hub.ingest(frame, 1, Date.now());
    this.nativeDeltas += this.hub.pendingDeltas;
    this.hub.takeDeltaFrame(1, 1, 0);
  }
}

function klineMessage(
  openTime: number,
  [o, h, l, c]: [string, string, string, string],
  volume: string,
  trades: number,
  closed: boolean,
  eventTime: number,
): string {
  const k = {
    t: openTime,
    T: openTime + MIN - 1,
    s: 'BTCUSDT',
    i: '1m',
    f: 1000,
    L: 1000 + trades - 1,
    o,
    c,
    h,
    l,
    v: volume,
    n: trades,
    x: closed,
    q: '100.00',
    V: '0.5',
    Q: '50.00',
    B: '0',
  };
  return JSON.stringify({ e: 'kline', E: eventTime, s: 'BTCUSDT', k });
}

function bookTicker(bid: string, ask: string, time: number, updateId: number, enveloped = false): string {
  const event = {
    e: 'bookTicker',
    u: updateId,
    s: 'BTCUSDT',
    b: bid,
    B: '3',
    a: ask,
    A: '4',
    T: time,
    E: time + 2,
  };
  return JSON.stringify(enveloped ? { stream: 'btcusdt@bookTicker', data: event } : event);
}

describe('JsMergeBook does the work of the native merge book', () => {
  it('merges the real capture to the same bars, ticks, counters and deltas', () => {
    const messages = captureMessages('JsMergeBook capture');
    if (messages === undefined) return;
    const market = messages.filter(
      (m) => m.includes('"e":"kline"') || m.includes('"e":"bookTicker"') || m.includes('"e":"aggTrade"'),
    );
    expect(market.length).toBe(67 + 613 + 91);
    // One Ingest frame per message: a frame carries its klines before its ticks, so a batch would
    // merge in another order than the messages arrived (same final bars here, other counters).
    // An aggTrade's price goes in as a traded price, the only kind of tick that corrects a bar.
    const both = new BothPaths(CAPTURE_SYMBOLS);
    for (const message of market) {
      if (message.includes('"e":"aggTrade"')) {
        const parsed = JSON.parse(message) as { data?: { s: string; p: string; T: number } };
        const trade = parsed.data ?? (parsed as unknown as { s: string; p: string; T: number });
        both.traded(trade.s, trade.p, trade.T);
      } else both.market([message]);
    }
    both.expectSame(['1m']);
    // The capture exercises the rules, not only the happy path.
    const stats = both.js.stats();
    expect(stats.klines.tickCorrections).toBeGreaterThan(0);
    expect(stats.klines.applied + stats.klines.ignoredNotMoreTrades + stats.klines.unchanged).toBe(67);
    expect(stats.ticks.applied).toBeGreaterThan(500);
    expect(both.js.klines('CTKUSDT', '1m').map((k) => k.closed)).toEqual([true, false]);
  });

  it('applies the open-bar, closed-bar and window rules like the native book', () => {
    const both = new BothPaths(['BTCUSDT'], 3);
    const bar = (i: number, prices: [string, string, string, string], volume: string, trades: number) =>
      klineMessage(T0 + i * MIN, prices, volume, trades, false, T0 + i * MIN + 1_000 + trades);
    both.market([bar(0, ['10', '12', '9', '11'], '5', 5)]);
    // Fewer trades: ignored. Same trades and more volume: wins, high only rises, low only falls.
    both.market([bar(0, ['10', '11', '9.5', '10'], '9', 4)]);
    both.market([bar(0, ['10', '11.5', '9.8', '11.2'], '6', 5)]);
    // The same bar again (another scale of the same values): unchanged.
    both.market([bar(0, ['10.0', '12.00', '9', '11.2'], '6.000', 5)]);
    // A closed version replaces the open one and is final.
    both.market([klineMessage(T0, ['10', '12.5', '9', '12'], '7', 6, true, T0 + 60_100)]);
    both.market([bar(0, ['10', '13', '8', '12'], '8', 9)]);
    // Window of 3: bars 1..3 push bar 0 out; a bar older than a full window is dropped; a missing
    // bar inside it is inserted.
    both.market([bar(1, ['1', '2', '1', '2'], '1', 1), bar(3, ['1', '2', '1', '2'], '1', 1)]);
    both.market([bar(4, ['1', '2', '1', '2'], '1', 1), bar(0, ['1', '2', '1', '2'], '9', 9)]);
    both.market([bar(2, ['1', '2', '1', '2'], '1', 1)]);
    both.expectSame(['1m']);
    expect(both.js.klines('BTCUSDT', '1m').map((k) => (k.openTime - T0) / MIN)).toEqual([2, 3, 4]);
    expect(both.js.stats().klines).toMatchObject({
      applied: 7,
      unchanged: 1,
      ignoredClosed: 1,
      ignoredNotMoreTrades: 1,
      outsideWindow: 1,
    });
  });

  it('corrects the newest open bar from newer traded prices only, like the native book', () => {
    const both = new BothPaths(['BTCUSDT']);
    both.market([klineMessage(T0, ['7.6110', '7.6200', '7.6000', '7.6110'], '5', 5, false, T0 + 10_000)]);
    // A book whose midpoint would be a new close: the bar stays (nothing traded there).
    both.market([bookTicker('7.6110', '7.6120', T0 + 20_000, 10)]);
    expect(both.js.klines('BTCUSDT', '1m')[0]?.close).toBe(7.611);
    // A traded price becomes the close, and a new high.
    both.traded('BTCUSDT', '7.6250', T0 + 19_000);
    expect(both.js.klines('BTCUSDT', '1m')[0]).toMatchObject({ close: 7.625, high: 7.625 });
    // Older book: dropped. Same time, larger update id: newer. Same values: unchanged.
    both.market([bookTicker('7.0000', '7.0010', T0 + 15_000, 11)]);
    both.market([bookTicker('7.6300', '7.6320', T0 + 20_000, 12, true)]);
    both.market([bookTicker('7.6300', '7.6320', T0 + 20_000, 12)]);
    // An older traded price: dropped; the same again: unchanged; past the bar: corrects nothing.
    both.traded('BTCUSDT', '7.0000', T0 + 18_000);
    both.traded('BTCUSDT', '7.6250', T0 + 19_000);
    both.market([bookTicker('0', '7.6500', T0 + 21_000, 13)]);
    // A traded price that confirms the close only advances asOf (no kline delta).
    both.market([klineMessage(T0 + MIN, ['7.6', '7.6', '7.6', '7.6'], '1', 1, false, T0 + MIN + 10)]);
    both.traded('BTCUSDT', '7.6', T0 + MIN + 20);
    both.expectSame(['1m']);
    expect(both.js.klines('BTCUSDT', '1m')[1]?.asOf).toBe(T0 + MIN + 20);
    expect(both.js.stats().ticks).toMatchObject({ applied: 5, unchanged: 2, droppedOlder: 2 });
    expect(both.hub.stats().ticks).toMatchObject({ applied: 5, unchanged: 2, droppedOlder: 2 });
    expect(both.js.stats().klines.tickCorrections).toBe(1);
    expect(both.hub.stats().klines.tickCorrections).toBe(1);
  });

  it('merges ACCOUNT_UPDATE positions and balances like the native book, in any arrival order', () => {
    const update = (time: number, amount: string, wallet: string, extra: Record<string, string>) =>
      JSON.stringify({
        e: 'ACCOUNT_UPDATE',
        E: time + 1,
        T: time,
        a: {
          m: 'ORDER',
          B: [{ a: 'USDT', wb: wallet, cw: wallet, bc: '0' }],
          P: [{ s: 'BTCUSDT', pa: amount, ep: '100.5', up: '1.25', mt: 'cross', ps: 'BOTH', ...extra }],
        },
      });
    const messages = [
      update(T0 + 10, '1.000', '500.00', { bep: '100.6', iw: '0' }),
      update(T0 + 20, '1.000', '501.00', {}),
      update(T0 + 20, '1.000', '777.00', { bep: '999' }),
      update(T0 + 30, '2.000', '502.00', { iw: '3' }),
      update(T0 + 25, '1.000', '501.50', { bep: '100.7' }),
      JSON.stringify({ stream: 'listenKey', data: JSON.parse(update(T0 + 5, '0', '1', {})) }),
    ];
    for (const order of [messages, [...messages].reverse()]) {
      const both = new BothPaths(['BTCUSDT']);
      for (const message of order) both.account(message);
      both.expectSame([], ['USDT']);
      expect(both.js.position('BTCUSDT', 'BOTH')).toMatchObject({
        amount: 2,
        updateTime: T0 + 30,
        isolatedWallet: 3,
      });
      expect(both.js.balance('USDT')).toMatchObject({ walletBalance: 502, crossWalletBalance: 502 });
    }
  });

  it('merges REST klines over websocket bars like the native book', () => {
    const both = new BothPaths(['BTCUSDT']);
    both.market([klineMessage(T0 + MIN, ['10', '12', '9', '11'], '5', 5, false, T0 + MIN + 500)]);
    const row = (i: number, close: string, trades: number) => [
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
    ];
    // Bar 0 closed (before the server time), bar 1 closes the websocket's open bar, bar 2 open.
    const body = JSON.stringify([row(0, '11', 4), row(1, '11.5', 7), row(2, '12', 1)]);
    both.rest(body, 'BTCUSDT', '1m', T0 + 2 * MIN + 30_000);
    both.rest(body, 'BTCUSDT', '1m', T0 + 2 * MIN + 30_000);
    both.expectSame(['1m']);
    expect(both.js.klines('BTCUSDT', '1m').map((k) => [k.close, k.closed, k.asOf])).toEqual([
      [11, true, 0],
      [11.5, true, 0],
      [12, false, 0],
    ]);
  });

  it('throws on malformed input', () => {
    const book = new JsMergeBook([]);
    const good = klineMessage(T0, ['10', '12', '9', '11'], '5', 5, false, T0 + 1);
    expect(() => book.mergeKlineMessage(good.slice(0, -3))).toThrow(SyntaxError);
    expect(() => book.mergeKlineMessage(good.replace('"o":"10"', '"o":"ten"'))).toThrow(/o is not a decimal/);
    expect(() => book.mergeKlineMessage(good.replace('"h":"12"', '"h":"8"'))).toThrow(/high is below low/);
    expect(() => book.mergeKlineMessage(good.replace(`"T":${T0 + MIN - 1}`, `"T":${T0 + MIN}`))).toThrow(
      /is not one 1m bar/,
    );
    expect(() => book.mergeBookTickerMessage(good)).toThrow(/event type is kline/);
    expect(() => book.mergeBookTickerMessage(bookTicker('2', '1', T0, 1))).toThrow(/bid is above ask/);
    expect(() => book.mergeRestKlines('[[1,"1"]]', 'BTCUSDT', '1m', 0)).toThrow(/12 elements/);
    expect(() =>
      book.mergeAccountUpdate('{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"X","P":[{"s":"BTCUSDT"}]}}'),
    ).toThrow(/position side/);
    expect(book.stats().klines.rejectedInvalid).toBe(1);
    expect(book.stats().ticks.rejectedInvalid).toBe(1);
    expect(book.klines('BTCUSDT', '1m')).toEqual([]);
  });
});
