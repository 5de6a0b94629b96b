// TradeBackfill against the simulator's market served over HTTP (pages by id, duplicates, every bound that gives a hold up) and against real captured trades.
import { afterEach, describe, expect, it } from 'vitest';
import type { Json, Params } from '../../sim/contracts.js';
import { SimMarket } from '../../sim/market/sim-market.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { type ScriptedReply, ScriptedServer } from '../../ts/exchange/testing/scripted-server.js';
import { VirtualScheduler } from '../../ts/exchange/testing/virtual-scheduler.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import { StreamBars } from '../../ts/native/bar-aggregator.js';
import { IngestEncoder } from '../../ts/native/hub.js';
import type { IntervalName } from '../../ts/native/interval.js';
import { captureMessages } from '../../ts/native/testing/capture.js';
import {
  type BarSink,
  type HoldOutcome,
  TradeBackfill,
  type TradeBackfillOptions,
} from './trade-backfill.js';

const SYMBOL = 'BTCUSDT';
const INTERVALS: IntervalName[] = ['1m', '5m'];
const T0 = Date.UTC(2026, 4, 8, 10, 0, 0, 0);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A sink whose frames stay small, so the backfill must apply in many pieces; counts what it sends. */
class SmallFrames implements BarSink {
  readonly currentEncoder = new IngestEncoder([SYMBOL]);
  readonly recordBudget = 24;
  frames = 0;
  records = 0;
  maxRecords = 0;
  /** Room asked for: once per piece of trades applied. */
  rooms: number[] = [];

  makeRoom(records: number): void {
    this.rooms.push(records);
    if (this.currentEncoder.pending > 0 && this.currentEncoder.pending + records > this.recordBudget)
      this.flush();
  }

  flush(): boolean {
    const pending = this.currentEncoder.pending;
    const frame = this.currentEncoder.takeFrame(1, Date.now());
    if (frame === null) return false;
    this.frames += 1;
    this.records += pending;
    this.maxRecords = Math.max(this.maxRecords, pending);
    return true;
  }
}

/**
 * The exchange: the simulator's market (trades, aggTrade stream, REST aggTrades) on a virtual
 * clock, its REST aggTrades served over loopback HTTP (a test may script failures instead), and
 * two sets of bars: the collector's (fed the stream, which may drop trades) and the truth (every trade).
 */
async function exchange(options: Partial<TradeBackfillOptions> = {}) {
  const clock = { time: T0, now: () => clock.time };
  const market = new SimMarket({ clock, seed: 21, logger: silentLogger() });
  const messages: Buffer[] = [];
  market.setStreamDemand((s) => s === 'btcusdt@aggTrade');
  market.onStream((_route, _stream, payload) => messages.push(Buffer.from(JSON.stringify(payload))));
  const aggTrades = market.endpoints().find((e) => e.path === '/fapi/v1/aggTrades');
  if (aggTrades === undefined) throw new Error('the market serves no aggTrades');
  const serve = (params: URLSearchParams): ScriptedReply => ({
    body: aggTrades.handle({
      params: Object.fromEntries(params) as Params,
      accountId: null,
      now: clock.time,
    }) as Json,
  });
  let script: (params: URLSearchParams) => ScriptedReply | Promise<ScriptedReply> = serve;
  const server = await ScriptedServer.start();
  server.on('GET', '/fapi/v1/aggTrades', (request) => script(request.query));
  const rest = new RestClient(
    { baseUrl: server.url, retries: { maxAttempts: 1 } },
    { logger: silentLogger() },
  );
  cleanup.push(
    () => server.close(),
    () => rest.close(),
  );
  const sink = new SmallFrames();
  const bars = new StreamBars(SYMBOL, INTERVALS, T0, true);
  const truth = new StreamBars(SYMBOL, INTERVALS, T0);
  const truthSink = new IngestEncoder([SYMBOL]);
  const settled: HoldOutcome[] = [];
  let onSettle: () => void = () => {};
  const backfill = new TradeBackfill(
    new UsdmApi(rest),
    sink,
    silentLogger(),
    { intervals: INTERVALS.length, ...options },
    (symbol, outcome) => {
      expect(symbol).toBe(SYMBOL);
      settled.push(outcome);
      onSettle();
    },
  );
  cleanup.push(() => backfill.stop());
  return {
    market,
    server,
    sink,
    bars,
    truth,
    backfill,
    settled,
    /** Replaces the REST answers (`serve` answers as the exchange does). */
    script(next: (params: URLSearchParams, serve: (p: URLSearchParams) => ScriptedReply) => ScriptedReply) {
      script = (params) => next(params, serve);
    },
    /** `count` trades, one every 40 ms of exchange time, and the stream that was sent for them. */
    trade(count: number): void {
      for (let i = 0; i < count; i++) {
        market.generateTrades(1, SYMBOL);
        clock.time += 40;
      }
    },
    /** Delivers what the stream sent since the last call to the collector's bars (and all trades to the truth). */
    deliver(): void {
      const batch = messages.splice(0);
      if (batch.length === 0) return;
      bars.pushMessages(batch, sink.currentEncoder);
      backfill.follow(SYMBOL, bars);
    },
    /** Feeds the truth every trade the exchange made so far (read back from its tape). */
    feedTruth(fromId: number): void {
      const params = new URLSearchParams({ symbol: SYMBOL, fromId: String(fromId), limit: '1000' });
      for (;;) {
        const rows = (serve(params).body ?? []) as { a: number; T: number }[];
        if (rows.length === 0) return;
        const batch = rows.map((r) =>
          Buffer.from(JSON.stringify({ e: 'aggTrade', E: r.T, s: SYMBOL, ...r })),
        );
        truth.pushMessages(batch, truthSink);
        truthSink.takeFrame(1, Date.now());
        params.set('fromId', String((rows.at(-1)?.a ?? 0) + 1));
      }
    },
    idsRequested: () => server.requestsTo('/fapi/v1/aggTrades').map((r) => Number(r.query.get('fromId'))),
    settledOnce: () =>
      new Promise<void>((resolve) => {
        if (settled.length > 0) resolve();
        else onSettle = resolve;
      }),
  };
}

/** The first id of the live tape (the next trade the market makes). */
function nextId(market: SimMarket): number {
  const tail = market
    .endpoints()
    .find((e) => e.path === '/fapi/v1/aggTrades')
    ?.handle({ params: { symbol: SYMBOL, limit: '1' }, accountId: null, now: T0 }) as { a: number }[];
  return (tail[0]?.a ?? 0) + 1;
}

describe('TradeBackfill', () => {
  it('fetches a 2,500-trade gap in pages of 1,000 by id, drops the rows the stream also sent, and leaves the bars of an unbroken stream', async () => {
    const x = await exchange();
    const first = nextId(x.market);
    x.trade(50);
    x.deliver();
    // Complete from just after the first trade received (the subscription's clock may lag).
    const complete = x.bars.completeFrom;
    x.market.dropAggTrades(SYMBOL, 2_500); // ids first+50 .. first+2549 never come by stream
    x.trade(2_600);
    x.deliver();
    expect(x.bars.holding).toBe(true);
    expect([x.bars.missingFrom, x.bars.missingUntil]).toEqual([first + 50, first + 2_549]);
    await x.settledOnce();
    expect(x.settled).toEqual(['healed']);
    expect(x.idsRequested()).toEqual([first + 50, first + 1_050, first + 2_050]);
    x.feedTruth(first);
    // Bars: the same trades, once each, in id order; nothing withheld, no gap left.
    expect(x.bars.stats()).toMatchObject({ accepted: 2_650, gaps: 0, duplicates: 0 });
    expect(x.bars.completeFrom).toBe(complete);
    for (const interval of INTERVALS) expect(x.bars.openBar(interval)).toEqual(x.truth.openBar(interval));
    // The third page reached past the gap: its last 100 rows were the trades the stream held.
    expect(x.backfill.counters).toMatchObject({
      tasks: 1,
      healed: 1,
      released: 0,
      pages: 3,
      pageFailures: 0,
      tradesFetched: 2_600,
      duplicates: 100,
      tradesBackfilled: 2_500,
      gapsApplied: 0,
    });
    expect(x.bars.holdStats()).toMatchObject({ holds: 1, healed: 1, backfilled: 2_500, duplicates: 100 });
    // Applied in pieces whose bars fit the sink's small frames (11 trades, at most 24 bars each).
    expect(x.sink.maxRecords).toBeLessThanOrEqual(x.sink.recordBudget);
    expect(Math.max(...x.sink.rooms)).toBeLessThanOrEqual(x.sink.recordBudget);
    expect(x.sink.rooms.length).toBeGreaterThan(2_500 / 11);
  });

  it('gives a hold up after a bounded number of failed pages: the gap is applied, its bars withheld, nothing more is asked', async () => {
    const x = await exchange({ scheduler: new VirtualScheduler(T0), maxAttempts: 3 });
    x.script(() => ({ status: 500, body: { code: -1000, msg: 'An unknown error occurred' } }));
    const first = nextId(x.market);
    x.trade(20);
    x.deliver();
    x.market.dropAggTrades(SYMBOL, 5);
    x.trade(20);
    x.deliver();
    await x.settledOnce();
    expect(x.settled).toEqual(['released']);
    expect(x.idsRequested()).toEqual([first + 20, first + 20, first + 20]);
    expect(x.backfill.counters).toMatchObject({ pageFailures: 3, pages: 0, released: 1, gapsApplied: 1 });
    expect(x.backfill.lastError).toContain('500');
    expect(x.bars.holding).toBe(false);
    expect(x.bars.stats()).toMatchObject({ accepted: 35, gaps: 1, missingIds: 5 });
    expect(x.bars.completeFrom).toBeGreaterThan(T0);
    x.trade(5);
    x.deliver();
    expect(x.idsRequested()).toHaveLength(3);
  });

  it('stops at once when the exchange bans the IP (418)', async () => {
    const x = await exchange({ scheduler: new VirtualScheduler(T0) });
    x.script(() => ({
      status: 418,
      headers: { 'Retry-After': '120' },
      body: { code: -1003, msg: 'banned' },
    }));
    x.trade(10);
    x.deliver();
    x.market.dropAggTrades(SYMBOL, 3);
    x.trade(10);
    x.deliver();
    await x.settledOnce();
    expect(x.settled).toEqual(['released']);
    expect(x.idsRequested()).toHaveLength(1);
  });

  it('gives up when pages never bring the missing id (counted as stalls), and when a gap needs more pages than allowed', async () => {
    const stalled = await exchange({ scheduler: new VirtualScheduler(T0), maxAttempts: 2 });
    // An exchange that skips the first missing id: every page starts one id later.
    stalled.script((params, serve) => {
      const shifted = new URLSearchParams(params);
      shifted.set('fromId', String(Number(params.get('fromId')) + 1));
      return serve(shifted);
    });
    stalled.trade(10);
    stalled.deliver();
    stalled.market.dropAggTrades(SYMBOL, 4);
    stalled.trade(10);
    stalled.deliver();
    await stalled.settledOnce();
    expect(stalled.settled).toEqual(['released']);
    expect(stalled.backfill.counters).toMatchObject({ pages: 2, stalls: 2, released: 1 });

    const long = await exchange({ pageLimit: 100, maxPages: 2 });
    const first = nextId(long.market);
    long.trade(10);
    long.deliver();
    long.market.dropAggTrades(SYMBOL, 500);
    long.trade(510);
    long.deliver();
    await long.settledOnce();
    expect(long.settled).toEqual(['released']);
    expect(long.idsRequested()).toEqual([first + 10, first + 110]);
    // The 200 trades fetched were applied; the rest of the gap was applied as a gap.
    expect(long.bars.holdStats()).toMatchObject({ backfilled: 200, released: 1 });
    expect(long.bars.stats()).toMatchObject({ accepted: 220, gaps: 1, missingIds: 300 });
  });

  it('gives a hold up when it puts aside more trades than allowed while REST is slow', async () => {
    const x = await exchange({ maxHeldTrades: 30 });
    x.script(() => ({ status: 500, delayMs: 150, body: { code: -1000, msg: 'slow and failing' } }));
    x.trade(10);
    x.deliver();
    x.market.dropAggTrades(SYMBOL, 2);
    x.trade(20);
    x.deliver();
    x.trade(20);
    x.deliver();
    expect(x.bars.heldTrades).toBe(38);
    await x.settledOnce();
    expect(x.settled).toEqual(['released']);
    expect(x.idsRequested()).toHaveLength(1);
    expect(x.bars.stats()).toMatchObject({ accepted: 48, gaps: 1 });
  });

  it('after a lost connection: the next streamed id settles a busy symbol without REST; a quiet one asks REST once', async () => {
    const busy = await exchange({ probeMs: 300 });
    busy.trade(10);
    busy.deliver();
    const busyComplete = busy.bars.completeFrom;
    expect(busy.backfill.followLoss(SYMBOL, busy.bars, T0 + 1_000)).toBe(true);
    busy.trade(3);
    busy.deliver();
    expect(busy.bars.holding).toBe(false);
    await busy.settledOnce();
    expect(busy.settled).toEqual(['healed']);
    expect(busy.idsRequested()).toEqual([]);
    expect(busy.bars.completeFrom).toBe(busyComplete);

    const quiet = await exchange({ probeMs: 20 });
    const first = nextId(quiet.market);
    quiet.trade(10);
    quiet.deliver();
    const quietComplete = quiet.bars.completeFrom;
    quiet.market.dropAggTrades(SYMBOL, 4); // lost with the connection; nothing trades afterwards
    quiet.trade(4);
    expect(quiet.backfill.followLoss(SYMBOL, quiet.bars, T0 + 1_000)).toBe(true);
    await quiet.settledOnce();
    expect(quiet.settled).toEqual(['healed']);
    expect(quiet.idsRequested()).toEqual([first + 10]);
    expect(quiet.bars.stats()).toMatchObject({ accepted: 14, gaps: 0 });
    expect(quiet.bars.completeFrom).toBe(quietComplete);

    // Before any trade was seen nothing can be checked by id: the loss marks the bars incomplete.
    const fresh = await exchange();
    expect(fresh.backfill.followLoss(SYMBOL, fresh.bars, T0 + 5_000)).toBe(false);
    expect(fresh.bars.completeFrom).toBe(T0 + 5_000);
  });
});

/** A captured combined-stream message. */
interface Captured {
  stream: string;
  data: {
    a: number;
    p: string;
    q: string;
    f: number;
    l: number;
    T: number;
    m: boolean;
    k: {
      t: number;
      L: number;
      o: string;
      h: string;
      l: string;
      c: string;
      v: string;
      q: string;
      n: number;
      V: string;
      Q: string;
    };
  };
}

const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && Decimal.parse(a).eq(Decimal.parse(b));

describe('TradeBackfill on real exchange data', () => {
  it('heals ids cut out of the middle of a real minute from a served copy of the capture: every exchange kline update of the minute is matched', async () => {
    const messages = captureMessages('real-data aggTrade backfill');
    if (messages === undefined) return;
    const captured = messages.map((m) => JSON.parse(m) as Captured);
    const server = await ScriptedServer.start();
    const rest = new RestClient(
      { baseUrl: server.url, retries: { maxAttempts: 1 } },
      { logger: silentLogger() },
    );
    cleanup.push(
      () => server.close(),
      () => rest.close(),
    );
    // The served copy: the capture's aggTrades of the asked symbol from fromId, as REST rows, up to
    // the newest one the exchange had made when asked (the one the stream delivered last).
    let madeUpTo = 0;
    server.on('GET', '/fapi/v1/aggTrades', (request) => {
      const stream = `${(request.query.get('symbol') ?? '').toLowerCase()}@aggTrade`;
      const fromId = Number(request.query.get('fromId'));
      const limit = Number(request.query.get('limit') ?? '500');
      const rows = captured
        .filter((c) => c.stream === stream && c.data.a >= fromId && c.data.a <= madeUpTo)
        .slice(0, limit)
        .map(({ data: { a, p, q, f, l, T, m } }) => ({ a, p, q, f, l, T, m }));
      return { body: rows };
    });
    const cuts: Record<string, [number, number]> = {
      // 12:06:01–03 and 12:06:03–05 of 2021-07-22: inside the minute that opens during the capture.
      SUSHIUSDT: [87_353_261, 87_353_265],
      CTKUSDT: [16_599_318, 16_599_322],
    };
    let compared = 0;
    for (const [symbol, [cutFrom, cutTo]] of Object.entries(cuts)) {
      const lower = symbol.toLowerCase();
      const trades = captured.filter((c) => c.stream === `${lower}@aggTrade`);
      const klines = captured.filter((c) => c.stream === `${lower}@kline_1m`).map((c) => c.data.k);
      const minute = Math.floor((trades.at(-1)?.data.T ?? 0) / 60_000) * 60_000;
      const sink = new SmallFrames();
      sink.currentEncoder.addSymbols([symbol]);
      // Complete from the capture's start: the minute that opens inside it is whole.
      const bars = new StreamBars(symbol, ['1m'], (trades[0]?.data.T ?? 0) - 1, true);
      let settled = 0;
      const backfill = new TradeBackfill(new UsdmApi(rest), sink, silentLogger(), { intervals: 1 }, () => {
        settled += 1;
      });
      cleanup.push(() => backfill.stop());
      let streamed = 0;
      let healedCompared = 0;
      for (const trade of trades) {
        const id = trade.data.a;
        madeUpTo = id;
        if (id >= cutFrom && id <= cutTo) continue; // lost by the stream
        bars.pushMessages([Buffer.from(JSON.stringify(trade))], sink.currentEncoder);
        backfill.follow(symbol, bars);
        if (bars.holding) {
          expect([bars.missingFrom, bars.missingUntil]).toEqual([cutFrom, cutTo]);
          const before = settled;
          await eventually(() => settled > before && !bars.holding);
        }
        streamed += trade.data.T >= minute ? 1 : 0;
        // Every exchange kline update of the minute that ends at this trade is the bar, exactly.
        const open = bars.openBar('1m')?.kline;
        for (const k of klines.filter((k) => k.t === minute && k.L === trade.data.l)) {
          expect(open?.openTime).toBe(k.t);
          expect(same(open?.open, k.o), `${symbol} open`).toBe(true);
          expect(same(open?.high, k.h), `${symbol} high`).toBe(true);
          expect(same(open?.low, k.l), `${symbol} low`).toBe(true);
          expect(same(open?.close, k.c), `${symbol} close`).toBe(true);
          expect(same(open?.volume, k.v), `${symbol} volume`).toBe(true);
          expect(same(open?.quoteVolume, k.q), `${symbol} quote volume`).toBe(true);
          expect(same(open?.takerBuyVolume, k.V), `${symbol} taker buy volume`).toBe(true);
          expect(same(open?.takerBuyQuoteVolume, k.Q), `${symbol} taker buy quote volume`).toBe(true);
          expect(open?.trades).toBe(k.n);
          compared += 1;
          if (id > cutTo) healedCompared += 1;
        }
      }
      expect(settled).toBe(1);
      // Kline updates after the cut, when the bar holds trades that came by REST, were matched too.
      expect(healedCompared).toBeGreaterThanOrEqual(2);
      expect(backfill.counters).toMatchObject({ healed: 1, released: 0, pages: 1, tradesBackfilled: 5 });
      expect(bars.stats().gaps).toBe(0);
      // The stream alone held fewer trades than the exchange's last kline of the minute counts.
      const last = klines.filter((k) => k.t === minute).at(-1);
      expect(streamed).toBeLessThan(last?.n ?? 0);
    }
    // Every update of the minute whose last trade id is a streamed aggTrade's (8 in the capture).
    expect(compared).toBe(8);
  });
});

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}
