import { afterEach, describe, expect, it, vi } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { parseMarketEvent, parseRestBookTickers, parseRestKlines } from '../../ts/native/parse.js';
import { type Endpoint, type Json, type MarketTrade, type Params, SimRejection } from '../contracts.js';
import { DEFAULT_SYMBOLS } from '../symbols.js';
import { SimMarket, SimMarketError } from './sim-market.js';

const T0 = Date.UTC(2026, 4, 8, 10, 0, 0, 0);

class TestClock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
}

function market(seed = 7, clock = new TestClock()): { market: SimMarket; clock: TestClock } {
  return { market: new SimMarket({ clock, seed, logger: silentLogger() }), clock };
}

function call(endpoints: Endpoint[], path: string, params: Params, now: number): Json {
  const endpoint = endpoints.find((e) => e.path === path);
  if (endpoint === undefined) throw new Error(`no endpoint ${path}`);
  return endpoint.handle({ params, accountId: null, now });
}

function rejection(run: () => unknown): SimRejection {
  try {
    run();
  } catch (error) {
    if (error instanceof SimRejection) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const bytes = (value: Json): Buffer => Buffer.from(JSON.stringify(value));

type Event = { route: string; stream: string; payload: Json };

afterEach(() => {
  vi.useRealTimers();
});

describe('sim market', () => {
  it('makes the same tape for the same seed and a different one for another seed', () => {
    const tapes = [7, 7, 8].map((seed) => {
      const { market: m, clock } = market(seed);
      for (let i = 0; i < 5; i++) {
        m.generateTrades(40);
        clock.time += 1000;
      }
      return JSON.stringify(
        DEFAULT_SYMBOLS.map((s) =>
          call(m.endpoints(), '/fapi/v1/aggTrades', { symbol: s.symbol, limit: '1000' }, clock.time),
        ),
      );
    });
    expect(tapes[0]).toBe(tapes[1]);
    expect(tapes[0]).not.toBe(tapes[2]);
  });

  it('numbers trades with whole ids and counts every one in its bar at a rate that is no whole number a minute', () => {
    // 10,000 trades a second over 600 symbols: 16.67 a symbol, 1,000.0000000000001 a minute. The
    // history's density was that product, so every live id was a fraction the aggregator refused.
    const clock = new TestClock();
    const m = new SimMarket({
      clock,
      seed: 7,
      logger: silentLogger(),
      source: { kind: 'random-walk', tradesPerSecond: 10_000 / 600 },
    });
    m.generateTrades(30, 'BTCUSDT');
    const trades = call(
      m.endpoints(),
      '/fapi/v1/aggTrades',
      { symbol: 'BTCUSDT', limit: '1000' },
      clock.time,
    );
    const tape = trades as { a: number; f: number; l: number; T: number }[];
    expect(tape.map((t) => t.a).filter((a) => !Number.isSafeInteger(a))).toEqual([]);
    const bars = call(
      m.endpoints(),
      '/fapi/v1/klines',
      { symbol: 'BTCUSDT', interval: '1m', limit: '1' },
      clock.time,
    ) as unknown[][];
    const live = tape.filter((t) => t.T >= T0);
    expect(live.length).toBeGreaterThanOrEqual(30);
    expect(bars[0]?.[0]).toBe(T0);
    // A bar counts the trades each aggregate holds (f … l).
    expect(bars[0]?.[8]).toBe(live.reduce((n, t) => n + t.l - t.f + 1, 0));
  });

  it('keeps trades and the book on the tick and step grids, with a 1–3 tick spread', () => {
    const { market: m, clock } = market(3);
    for (let i = 0; i < 20; i++) {
      m.generateTrades(50);
      clock.time += 250;
    }
    for (const spec of DEFAULT_SYMBOLS) {
      const trades = call(
        m.endpoints(),
        '/fapi/v1/aggTrades',
        { symbol: spec.symbol, limit: '1000' },
        clock.time,
      ) as {
        p: string;
        q: string;
        a: number;
        f: number;
        l: number;
        m: boolean;
      }[];
      expect(trades).toHaveLength(1000);
      let makers = 0;
      for (const [i, t] of trades.entries()) {
        const price = Decimal.parse(t.p);
        const qty = Decimal.parse(t.q);
        expect(price.isMultipleOf(spec.tickSize)).toBe(true);
        expect(qty.isMultipleOf(spec.stepSize)).toBe(true);
        expect(qty.gte(spec.minQty) && qty.lte(spec.marketMaxQty)).toBe(true);
        expect(t.l).toBeGreaterThanOrEqual(t.f);
        if (i > 0) expect(t.f).toBe((trades[i - 1]?.l ?? 0) + 1);
        if (t.m) makers += 1;
      }
      expect(makers).toBeGreaterThan(350);
      expect(makers).toBeLessThan(650);
      // Heavy tail: the largest trade is many times the median one.
      const sizes = trades.map((t) => Number(t.q)).sort((a, b) => a - b);
      expect((sizes.at(-1) ?? 0) / (sizes[500] ?? 1)).toBeGreaterThan(10);
      const { bids, asks } = m.book(spec.symbol, 50);
      expect(bids).toHaveLength(50);
      const spread = (asks[0]?.price ?? Decimal.ZERO)
        .sub(bids[0]?.price ?? Decimal.ZERO)
        .div(spec.tickSize, 0);
      expect(spread.toNumber()).toBeGreaterThanOrEqual(1);
      expect(spread.toNumber()).toBeLessThanOrEqual(3);
      for (const level of [...bids, ...asks]) {
        expect(level.price.isMultipleOf(spec.tickSize)).toBe(true);
        expect(level.qty.isMultipleOf(spec.stepSize)).toBe(true);
      }
      for (let i = 1; i < bids.length; i++)
        expect(bids[i]?.price.lt(bids[i - 1]?.price ?? Decimal.ZERO)).toBe(true);
      expect(m.markPrice(spec.symbol).isMultipleOf(spec.tickSize)).toBe(true);
      expect(m.lastPrice(spec.symbol).toString()).toBe(trades.at(-1)?.p);
    }
  });

  it('streams aggTrade, kline and bookTicker payloads that parse to exactly its state', () => {
    const { market: m, clock } = market(11);
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand((s) => s.startsWith('ethusdt') || s === '!bookTicker');
    const seen: MarketTrade[] = [];
    m.onTrade((t) => seen.push(t));
    const firstLive = (
      call(m.endpoints(), '/fapi/v1/aggTrades', { symbol: 'ETHUSDT', limit: '1' }, clock.time) as {
        a: number;
      }[]
    )[0]?.a;
    for (let i = 0; i < 30; i++) {
      m.generateTrades(7, 'ETHUSDT');
      clock.time += 7_000; // crosses minute boundaries: closed bars are streamed too
      for (let t = 0; t < 3; t++) m.tick();
      m.markTick();
    }
    const ethTrades = seen.filter((t) => t.symbol === 'ETHUSDT');
    expect(events.every((e) => !e.stream.startsWith('btcusdt@'))).toBe(true);
    const rest = m.endpoints();
    const tape = call(
      rest,
      '/fapi/v1/aggTrades',
      { symbol: 'ETHUSDT', fromId: String((firstLive ?? 0) + 1), limit: '1000' },
      clock.time,
    ) as { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean }[];
    const aggEvents = events.filter((e) => e.stream === 'ethusdt@aggTrade');
    expect(aggEvents).toHaveLength(ethTrades.length);
    expect(tape).toHaveLength(ethTrades.length);
    for (const [i, e] of aggEvents.entries()) {
      expect(e.route).toBe('market');
      const parsed = parseMarketEvent(bytes(e.payload));
      if (parsed.kind !== 'aggTrade') throw new Error('not an aggTrade');
      const t = tape[i] as (typeof tape)[number];
      expect(parsed.aggTrade).toMatchObject({
        symbol: 'ETHUSDT',
        id: t.a,
        price: t.p,
        quantity: t.q,
        firstTradeId: t.f,
        lastTradeId: t.l,
        tradeTime: t.T,
        buyerIsMaker: t.m,
      });
      expect(ethTrades[i]?.price.toString()).toBe(t.p);
    }
    const klineEvents = events.filter((e) => e.stream.startsWith('ethusdt@kline_'));
    expect(new Set(klineEvents.map((e) => e.stream)).size).toBe(15);
    const lastByStream = new Map<string, Json>();
    for (const e of klineEvents) {
      const parsed = parseMarketEvent(bytes(e.payload));
      if (parsed.kind !== 'kline') throw new Error('not a kline');
      expect(`ethusdt@kline_${parsed.kline.interval}`).toBe(e.stream);
      lastByStream.set(e.stream, e.payload);
    }
    expect(klineEvents.some((e) => (e.payload as { k: { x: boolean } }).k.x)).toBe(true);
    // Continuous klines of the perpetual carry the same bars.
    const continuous = events.filter((e) => e.stream === 'ethusdt_perpetual@continuousKline_1m');
    expect(continuous.at(-1)?.payload).toMatchObject({
      e: 'continuous_kline',
      ps: 'ETHUSDT',
      ct: 'PERPETUAL',
    });
    // REST klines parse, and the newest bar equals the last kline stream update of each interval.
    for (const interval of ['1m', '5m', '1h', '1d', '1w', '1M']) {
      const body = call(rest, '/fapi/v1/klines', { symbol: 'ETHUSDT', interval, limit: '1500' }, clock.time);
      const bars = parseRestKlines(bytes(body), clock.time);
      expect(bars).toHaveLength(1500);
      const lastEvent = lastByStream.get(`ethusdt@kline_${interval}`);
      if (lastEvent === undefined) throw new Error(`no ${interval} stream`);
      const streamed = parseMarketEvent(bytes(lastEvent));
      if (streamed.kind !== 'kline') throw new Error('not a kline');
      const { firstTradeId, lastTradeId, asOf, closed, ...values } = streamed.kline.kline;
      expect(bars.at(-1)).toMatchObject(values);
    }
    // The live minutes hold exactly the live trades.
    const liveStart = Math.floor(T0 / 60_000) * 60_000;
    const minutes = parseRestKlines(
      bytes(
        call(
          rest,
          '/fapi/v1/klines',
          { symbol: 'ETHUSDT', interval: '1m', startTime: String(liveStart) },
          clock.time,
        ),
      ),
      clock.time,
    );
    expect(minutes.length).toBeGreaterThan(3);
    expect(minutes.reduce((sum, k) => sum + k.trades, 0)).toBe((tape.at(-1)?.l ?? 0) - (tape[0]?.f ?? 0) + 1);
    // bookTicker payloads parse to the book's touch; the all-symbol stream every 5 s.
    const tickers = events.filter((e) => e.stream === 'ethusdt@bookTicker');
    const all = events.filter((e) => e.stream === '!bookTicker');
    expect(tickers.length).toBeGreaterThan(0);
    expect(all.some((e) => (e.payload as { s: string }).s === 'BTCUSDT')).toBe(true);
    const lastTicker = tickers.at(-1);
    if (lastTicker === undefined) throw new Error('no bookTicker');
    expect(lastTicker.route).toBe('public');
    const tick = parseMarketEvent(bytes(lastTicker.payload));
    if (tick.kind !== 'bookTicker') throw new Error('not a bookTicker');
    const { bids, asks } = m.book('ETHUSDT', 1);
    expect(tick.bookTicker.tick).toMatchObject({
      bid: bids[0]?.price.toString(),
      bidQty: bids[0]?.qty.toString(),
      ask: asks[0]?.price.toString(),
      askQty: asks[0]?.qty.toString(),
    });
    const restTicks = parseRestBookTickers(
      bytes(call(rest, '/fapi/v1/ticker/bookTicker', { symbol: 'ETHUSDT' }, clock.time)),
    );
    expect(restTicks[0]?.tick).toMatchObject({
      bid: tick.bookTicker.tick.bid,
      ask: tick.bookTicker.tick.ask,
    });
  });

  it('puts taker fills on the tape and klines without telling trade listeners', () => {
    const { market: m, clock } = market();
    const seen: MarketTrade[] = [];
    m.onTrade((t) => seen.push(t));
    m.generateTrades(3, 'BTCUSDT');
    m.recordTakerFill({
      symbol: 'BTCUSDT',
      price: Decimal.parse('80010.5'),
      qty: Decimal.parse('1.25'),
      time: clock.time,
      buyerIsMaker: false,
    });
    expect(seen).toHaveLength(3);
    expect(m.lastPrice('BTCUSDT').toString()).toBe('80010.50');
    const rest = m.endpoints();
    const last = (
      call(rest, '/fapi/v1/aggTrades', { symbol: 'BTCUSDT', limit: '1' }, clock.time) as Json[]
    )[0];
    expect(last).toMatchObject({ p: '80010.50', q: '1.250', m: false });
    const bars = parseRestKlines(
      bytes(call(rest, '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1m' }, clock.time)),
      clock.time,
    );
    expect(bars.at(-1)?.close).toBe('80010.50');
    expect(() => m.recordTakerFill({ ...(seen[0] as MarketTrade), symbol: 'NOPEUSDT' })).toThrow(
      SimMarketError,
    );
  });

  it('freezes: no trades and no stream events until the end, REST still answers', () => {
    const { market: m, clock } = market();
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand(() => true);
    m.generateTrades(2);
    const before = events.length;
    const price = m.lastPrice('SOLUSDT').toString();
    m.freeze(clock.time + 5000);
    m.generateTrades(10);
    expect(events.length).toBe(before);
    expect(m.lastPrice('SOLUSDT').toString()).toBe(price);
    const ticker = call(m.endpoints(), '/fapi/v1/ticker/price', { symbol: 'SOLUSDT' }, clock.time) as {
      price: string;
    };
    expect(ticker.price).toBe(price);
    clock.time += 5000;
    m.generateTrades(1, 'SOLUSDT');
    expect(events.length).toBeGreaterThan(before);
  });

  it('goes quiet: no trades until the end, while the mark price stream keeps its second beat', () => {
    const { market: m, clock } = market();
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand(() => true);
    m.generateTrades(2);
    const price = m.lastPrice('SOLUSDT').toString();
    m.quiet(clock.time + 5000);
    events.length = 0;
    m.generateTrades(10);
    for (let i = 0; i < 40; i++) m.tick();
    m.markTick();
    m.markTick();
    expect(events.filter((e) => e.stream.endsWith('@aggTrade'))).toEqual([]);
    expect(events.filter((e) => e.stream === '!markPrice@arr@1s').length).toBe(2);
    expect(m.lastPrice('SOLUSDT').toString()).toBe(price);
    clock.time += 5000;
    m.generateTrades(1, 'SOLUSDT');
    expect(events.some((e) => e.stream === 'solusdt@aggTrade')).toBe(true);
  });

  it('drops the next messages of one stream on request, nothing else', () => {
    const { market: m } = market();
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand(() => true);
    m.dropStreamMessages('!markPrice@arr@1s', 2);
    for (let i = 0; i < 3; i++) m.markTick();
    expect(events.filter((e) => e.stream === '!markPrice@arr@1s').length).toBe(1);
    expect(events.filter((e) => e.stream === '!markPrice@arr').length).toBeGreaterThan(0);
  });

  it('serves aggTrades by id as Binance does: fromId inclusive, a p q f l T m, limit 500 by default and 1000 at most, pages contiguous from the history into the live tape', () => {
    const { market: m, clock } = market(5);
    for (let i = 0; i < 6; i++) {
      m.generateTrades(300, 'ETHUSDT');
      clock.time += 1000;
    }
    const rest = m.endpoints();
    type Row = { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean };
    const page = (params: Params): Row[] =>
      call(rest, '/fapi/v1/aggTrades', { symbol: 'ETHUSDT', ...params }, clock.time) as Row[];
    const newest = page({ limit: '1' })[0]?.a ?? 0;
    const from = newest - 1800 - 2500; // 2,500 ids back in the history, then the live tape
    const first = page({ fromId: String(from) });
    expect(first).toHaveLength(500);
    expect(first[0]?.a).toBe(from);
    for (const row of first) expect(Object.keys(row).sort()).toEqual(['T', 'a', 'f', 'l', 'm', 'p', 'q']);
    expect(page({ fromId: String(from), limit: '1000' })).toHaveLength(1000);
    expect(rejection(() => page({ fromId: String(from), limit: '1001' })).code).toBe(-1130);
    expect(rejection(() => page({ fromId: String(from), limit: '0' })).code).toBe(-1130);
    // Paging by the last id + 1 walks every id once, in order, up to the newest trade.
    const ids: number[] = [];
    for (let next = from, n = 0; n < 20; n++) {
      const rows = page({ fromId: String(next), limit: '1000' });
      if (rows.length === 0) break;
      for (const [i, row] of rows.entries()) {
        if (i > 0) expect(row.f).toBe((rows[i - 1]?.l ?? 0) + 1);
        ids.push(row.a);
      }
      next = (rows.at(-1)?.a ?? 0) + 1;
    }
    expect(ids.length).toBe(newest - from + 1);
    expect(ids.every((id, i) => id === from + i)).toBe(true);
    expect(page({ fromId: String(newest + 1) })).toEqual([]);
  });

  it('answers nothing for ids the live tape no longer keeps rather than skip them', () => {
    const clock = new TestClock();
    const m = new SimMarket({ clock, seed: 3, logger: silentLogger(), tapeBudget: 1 });
    const rest = m.endpoints();
    const page = (params: Params) =>
      call(rest, '/fapi/v1/aggTrades', { symbol: 'BTCUSDT', ...params }, clock.time) as { a: number }[];
    const firstLive = (page({ limit: '1' })[0]?.a ?? 0) + 1;
    m.generateTrades(2_500, 'BTCUSDT'); // the tape keeps 2,000: the first 500 live ids are gone
    expect(page({ fromId: String(firstLive) })).toEqual([]);
    expect(page({ fromId: String(firstLive + 500), limit: '3' }).map((t) => t.a)).toEqual([
      firstLive + 500,
      firstLive + 501,
      firstLive + 502,
    ]);
  });

  it('drops the next aggTrade stream messages of a symbol on request: an id gap, the trades still on the tape', () => {
    const { market: m, clock } = market(9);
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand((s) => s.endsWith('@aggTrade'));
    expect(m.dropAggTrades('NOPEUSDT', 3)).toBe(false);
    expect(m.dropAggTrades('ETHUSDT', 3)).toBe(true);
    m.generateTrades(5, 'ETHUSDT');
    m.generateTrades(5, 'BTCUSDT');
    const ids = (symbol: string) =>
      events.filter((e) => e.stream === `${symbol}@aggTrade`).map((e) => (e.payload as { a: number }).a);
    const tape = (
      call(m.endpoints(), '/fapi/v1/aggTrades', { symbol: 'ETHUSDT', limit: '5' }, clock.time) as {
        a: number;
      }[]
    ).map((t) => t.a);
    expect(ids('ethusdt')).toEqual(tape.slice(3));
    expect(ids('btcusdt')).toHaveLength(5);
    expect(m.aggTradeDrops()).toEqual({ pending: {}, dropped: 3 });
    m.dropAggTrades('ETHUSDT', 2);
    m.clearAggTradeDrops();
    m.generateTrades(2, 'ETHUSDT');
    expect(ids('ethusdt')).toHaveLength(4);
  });

  it('serves Binance bodies, weights and error codes', () => {
    const { market: m, clock } = market();
    m.generateTrades(20);
    const rest = m.endpoints();
    const byPath = new Map(rest.map((e) => [e.path, e]));
    expect([...byPath.keys()].sort()).toEqual(
      [
        '/fapi/v1/aggTrades',
        '/fapi/v1/continuousKlines',
        '/fapi/v1/depth',
        '/fapi/v1/exchangeInfo',
        '/fapi/v1/fundingRate',
        '/fapi/v1/klines',
        '/fapi/v1/ping',
        '/fapi/v1/premiumIndex',
        '/fapi/v1/ticker/24hr',
        '/fapi/v1/ticker/bookTicker',
        '/fapi/v1/ticker/price',
        '/fapi/v1/time',
        '/fapi/v2/ticker/price',
      ].sort(),
    );
    expect(rest.every((e) => e.method === 'GET' && e.security === 'NONE' && !e.countsAsOrder)).toBe(true);
    const weight = (path: string, params: Params): number => byPath.get(path)?.weight(params) ?? -1;
    expect([
      weight('/fapi/v1/klines', {}),
      weight('/fapi/v1/klines', { limit: '99' }),
      weight('/fapi/v1/klines', { limit: '100' }),
    ]).toEqual([5, 1, 2]);
    expect([
      weight('/fapi/v1/klines', { limit: '1000' }),
      weight('/fapi/v1/klines', { limit: '1500' }),
    ]).toEqual([5, 10]);
    expect([5, 50, 100, 500, 1000].map((l) => weight('/fapi/v1/depth', { limit: String(l) }))).toEqual([
      2, 2, 5, 10, 20,
    ]);
    expect(weight('/fapi/v1/depth', {})).toBe(10);
    expect([
      weight('/fapi/v1/ticker/24hr', {}),
      weight('/fapi/v1/ticker/24hr', { symbol: 'BTCUSDT' }),
    ]).toEqual([40, 1]);
    expect([
      weight('/fapi/v1/ticker/bookTicker', {}),
      weight('/fapi/v1/ticker/bookTicker', { symbol: 'X' }),
    ]).toEqual([5, 2]);
    expect([weight('/fapi/v1/premiumIndex', {}), weight('/fapi/v1/aggTrades', {})]).toEqual([10, 20]);

    expect(call(rest, '/fapi/v1/ping', {}, clock.time)).toEqual({});
    expect(call(rest, '/fapi/v1/time', {}, 123)).toEqual({ serverTime: 123 });
    expect(
      rejection(() => call(rest, '/fapi/v1/klines', { symbol: 'NOPE', interval: '1m' }, clock.time)).code,
    ).toBe(-1121);
    expect(
      rejection(() => call(rest, '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '2m' }, clock.time)).code,
    ).toBe(-1120);
    expect(rejection(() => call(rest, '/fapi/v1/klines', { symbol: 'BTCUSDT' }, clock.time)).code).toBe(
      -1102,
    );
    expect(
      rejection(() =>
        call(rest, '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1m', limit: '1501' }, clock.time),
      ).code,
    ).toBe(-1130);
    expect(
      rejection(() => call(rest, '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: '7' }, clock.time)).code,
    ).toBe(-1130);
    expect(
      rejection(() =>
        call(
          rest,
          '/fapi/v1/aggTrades',
          { symbol: 'BTCUSDT', startTime: '0', endTime: '3600000' },
          clock.time,
        ),
      ).code,
    ).toBe(-1127);

    const info = call(rest, '/fapi/v1/exchangeInfo', {}, clock.time) as {
      rateLimits: Json[];
      symbols: { symbol: string; status: string; contractType: string; filters: { filterType: string }[] }[];
    };
    expect(info.rateLimits).toContainEqual({
      rateLimitType: 'REQUEST_WEIGHT',
      interval: 'MINUTE',
      intervalNum: 1,
      limit: 2400,
    });
    expect(info.symbols).toHaveLength(6);
    const btc = info.symbols[0];
    expect(btc).toMatchObject({ symbol: 'BTCUSDT', status: 'TRADING', contractType: 'PERPETUAL' });
    expect(btc?.filters).toContainEqual({
      filterType: 'PRICE_FILTER',
      minPrice: '261.10',
      maxPrice: '809484',
      tickSize: '0.10',
    });
    expect(btc?.filters).toContainEqual({
      filterType: 'MARKET_LOT_SIZE',
      stepSize: '0.001',
      maxQty: '120',
      minQty: '0.001',
    });
    expect(btc?.filters).toContainEqual({ filterType: 'MIN_NOTIONAL', notional: '100' });

    const depth = call(rest, '/fapi/v1/depth', { symbol: 'ETHUSDT', limit: '1000' }, clock.time) as {
      bids: string[][];
      asks: string[][];
      lastUpdateId: number;
    };
    expect(depth.bids).toHaveLength(1000);
    expect(depth.asks[0]?.[0]).toBe(m.book('ETHUSDT', 1).asks[0]?.price.toString());
    expect((call(rest, '/fapi/v1/ticker/24hr', {}, clock.time) as Json[]).length).toBe(6);
    const day = call(rest, '/fapi/v1/ticker/24hr', { symbol: 'ETHUSDT' }, clock.time) as {
      count: number;
      lastPrice: string;
      volume: string;
    };
    expect(day.count).toBeGreaterThanOrEqual(20);
    expect(day.lastPrice).toBe(m.lastPrice('ETHUSDT').toFixed(2));
    const premium = call(rest, '/fapi/v1/premiumIndex', { symbol: 'ETHUSDT' }, clock.time) as Record<
      string,
      Json
    >;
    expect(Object.keys(premium).sort()).toEqual(
      [
        'symbol',
        'markPrice',
        'indexPrice',
        'estimatedSettlePrice',
        'lastFundingRate',
        'interestRate',
        'nextFundingTime',
        'time',
      ].sort(),
    );
    expect(premium.nextFundingTime).toBe(Date.UTC(2026, 4, 8, 16));
    expect(premium.lastFundingRate).toBe(m.fundingRate('ETHUSDT').toFixed(8));
    // The generated past has funding from the first second: the 100 most recent settlements.
    const funding = call(rest, '/fapi/v1/fundingRate', { symbol: 'ETHUSDT' }, clock.time) as {
      fundingTime: number;
      fundingRate: string;
      markPrice: string;
    }[];
    expect(funding).toHaveLength(100);
    expect(funding.at(-1)?.fundingTime).toBe(Date.UTC(2026, 4, 8, 8));
    expect(funding.at(-1)?.fundingRate).toMatch(/^-?\d\.\d{8}$/);
  });

  it('ticks mark price every second, settles funding at 00/08/16 UTC and clamps the rate', () => {
    vi.useFakeTimers();
    const clock = new TestClock(Date.UTC(2026, 4, 8, 15, 59, 50));
    const m = new SimMarket({
      clock,
      seed: 5,
      logger: silentLogger(),
      source: { kind: 'random-walk', tradesPerSecond: 20 },
    });
    const events: Event[] = [];
    m.onStream((route, stream, payload) => events.push({ route, stream, payload }));
    m.setStreamDemand((s) => s.includes('markPrice') || s.startsWith('btcusdt@depth'));
    m.start();
    for (let i = 0; i < 30; i++) {
      clock.time += 500;
      vi.advanceTimersByTime(500);
    }
    m.stop();
    const fast = events.filter((e) => e.stream === 'btcusdt@markPrice@1s');
    const slow = events.filter((e) => e.stream === 'btcusdt@markPrice');
    expect(fast.length).toBe(15);
    expect(slow.length).toBe(5);
    const arr = events.filter((e) => e.stream === '!markPrice@arr');
    expect((arr[0]?.payload as Json[] | undefined)?.length).toBe(6);
    const parsed = parseMarketEvent(bytes(fast.at(-1)?.payload ?? null));
    if (parsed.kind !== 'markPrice') throw new Error('not a markPrice');
    expect(parsed.markPrice.nextFundingTime).toBe(Date.UTC(2026, 4, 9, 0));
    const rate = Decimal.parse(parsed.markPrice.fundingRate);
    expect(rate.abs().lte(Decimal.parse('0.003'))).toBe(true);
    const history = call(m.endpoints(), '/fapi/v1/fundingRate', { symbol: 'BTCUSDT' }, clock.time) as {
      fundingTime: number;
    }[];
    // The generated past's settlements, then the live one at 16:00.
    expect(history).toHaveLength(100);
    expect(history.at(-1)?.fundingTime).toBe(Date.UTC(2026, 4, 8, 16));
    for (let i = 1; i < history.length; i++) {
      expect((history[i]?.fundingTime ?? 0) - (history[i - 1]?.fundingTime ?? 0)).toBe(8 * 3_600_000);
    }
    const depth = events.filter((e) => e.stream.startsWith('btcusdt@depth5'));
    expect(new Set(depth.map((e) => e.stream))).toEqual(
      new Set(['btcusdt@depth5', 'btcusdt@depth5@100ms', 'btcusdt@depth5@500ms']),
    );
    expect(depth.every((e) => e.route === 'public' && (e.payload as { b: Json[] }).b.length === 5)).toBe(
      true,
    );
    const hundred = depth
      .filter((e) => e.stream === 'btcusdt@depth5@100ms')
      .map((e) => e.payload as { u: number; pu: number });
    for (let i = 1; i < hundred.length; i++) expect(hundred[i]?.pu).toBe(hundred[i - 1]?.u);
    expect(events.some((e) => e.stream === 'btcusdt@aggTrade')).toBe(false);
  });
});
