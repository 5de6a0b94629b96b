import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BarAggregator } from '../../ts/native/bar-aggregator.js';
import type { KlineObject } from '../../ts/native/index.js';
import { parseRestKlines } from '../../ts/native/parse.js';
import type { Json } from '../contracts.js';
import { AggTradeCsvReplay, CsvRowError, parseAggTradeCsvLine, type ReplayTrade } from './replay.js';
import { SimMarket, SimMarketError } from './sim-market.js';

const REAL_CSV = join(process.cwd(), '..', 'shared', 'data', 'BTCUSD_PERP-aggTrades-2026-05-08.csv');
const dir = mkdtempSync(join(tmpdir(), 'sim-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const T = 1778198400020;

describe('aggTrades CSV replay', () => {
  it('parses rows exactly and names the bad column', () => {
    expect(parseAggTradeCsvLine('480537903,79972.8,542.0,1123474160,1123474164,1778198400020,false')).toEqual(
      {
        aggTradeId: 480537903,
        price: '79972.8',
        quantity: '542.0',
        firstTradeId: 1123474160,
        lastTradeId: 1123474164,
        time: 1778198400020,
        buyerIsMaker: false,
      },
    );
    const bad = [
      ['1,2,3', 'columns'],
      ['x,1.0,1,1,1,1,true', 'agg_trade_id'],
      ['1,-1.0,1,1,1,1,true', 'price'],
      ['1,1.0,0,1,1,1,true', 'quantity'],
      ['1,1.0,1,5,4,1,true', 'last_trade_id'],
      ['1,1.0,1,1,1,1,maybe', 'is_buyer_maker'],
    ];
    for (const [line, what] of bad) {
      expect(() => parseAggTradeCsvLine(line ?? '')).toThrow(CsvRowError);
      expect(() => parseAggTradeCsvLine(line ?? '')).toThrow(what);
    }
  });

  it('rebases times to start + (t − t0) / speed and delivers no trade early; bad lines are counted', async () => {
    const path = csv('speed.csv', [
      'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
      `1,100.0,1,10,10,${T},false`,
      'garbage',
      `2,100.1,2,11,12,${T + 1000},true`,
      `3,100.2,1,13,13,${T + 500},true`,
      '',
      `4,100.3,3,14,14,${T + 3000},false`,
    ]);
    const delivered: { trade: ReplayTrade; at: number }[] = [];
    const clock = { now: () => Date.now() };
    const replay = new AggTradeCsvReplay({
      csvPath: path,
      speed: 10,
      clock,
      logger: silentLogger(),
      deliver: (trades) => {
        for (const trade of trades) delivered.push({ trade, at: Date.now() });
      },
      holdUntil: () => 0,
    });
    const start = Date.now();
    replay.start();
    const summary = await replay.done;
    expect(summary).toMatchObject({ trades: 3, malformed: 2, stopped: false });
    const base = delivered[0]?.trade.replayTime ?? 0;
    const offsets = delivered.map((d) => d.trade.replayTime - base);
    expect(offsets).toEqual([0, 100, 300]);
    expect(Math.abs((delivered[0]?.trade.replayTime ?? 0) - start)).toBeLessThan(50);
    for (const d of delivered) expect(d.at).toBeGreaterThanOrEqual(d.trade.replayTime);
    expect(delivered.map((d) => d.trade.price)).toEqual(['100.0', '100.1', '100.3']);
    expect(
      () =>
        new AggTradeCsvReplay({
          csvPath: path,
          speed: 0.5,
          clock,
          logger: silentLogger(),
          deliver: () => {},
          holdUntil: () => 0,
        }),
    ).toThrow(RangeError);
  });

  it("keeps the file's spacing at speed max", async () => {
    const path = csv('max.csv', [`1,100.0,1,10,10,${T},false`, `2,100.1,2,11,12,${T + 60_000},true`]);
    const times: number[] = [];
    const replay = new AggTradeCsvReplay({
      csvPath: path,
      speed: 'max',
      clock: { now: () => 5_000 },
      logger: silentLogger(),
      deliver: (trades) => times.push(...trades.map((t) => t.replayTime)),
      holdUntil: () => 0,
    });
    replay.start();
    await replay.done;
    expect(times).toEqual([5_000, 65_000]);
  });

  it('refuses a replay of an unknown symbol or a missing file', () => {
    const clock = { now: () => T };
    expect(
      () =>
        new SimMarket({
          clock,
          source: { kind: 'replay', csvPath: '/nonexistent.csv', symbol: 'BTCUSDT', speed: 1 },
        }),
    ).toThrow(SimMarketError);
    const path = csv('one.csv', [`1,100.0,1,10,10,${T},false`]);
    expect(
      () => new SimMarket({ clock, source: { kind: 'replay', csvPath: path, symbol: 'NOPEUSDT', speed: 1 } }),
    ).toThrow(SimMarketError);
    expect(
      () => new SimMarket({ clock, source: { kind: 'replay', csvPath: path, symbol: 'BTCUSDT', speed: 0 } }),
    ).toThrow(SimMarketError);
  });

  it('replays the real dump into klines equal to the aggregator fed directly', async () => {
    if (!existsSync(REAL_CSV)) {
      console.warn(`skipped: ${REAL_CSV} is absent (see ../shared/data/README.md)`);
      return;
    }
    const lines = readFileSync(REAL_CSV, 'utf8').split('\n').slice(0, 4001);
    const path = csv('real.csv', lines);
    const rows = lines.slice(1).map(parseAggTradeCsvLine);
    const first = rows[0];
    const last = rows.at(-1);
    if (first === undefined || last === undefined) throw new Error('empty sample');
    const direct = new BarAggregator('BTCUSDT', ['1m', '5m', '1h']);
    const pushed = direct.pushMessages(
      rows.map((r) =>
        Buffer.from(
          JSON.stringify({
            e: 'aggTrade',
            E: r.time,
            s: 'BTCUSDT',
            a: r.aggTradeId,
            p: r.price,
            q: r.quantity,
            f: r.firstTradeId,
            l: r.lastTradeId,
            T: r.time,
            m: r.buyerIsMaker,
          }),
        ),
      ),
    );
    const expected = new Map<string, KlineObject[]>();
    expect(pushed.accepted).toBe(rows.length);
    const closed = [...pushed.closed, ...direct.advanceTo(last.time)];
    for (const interval of ['1m', '5m', '1h'] as const) {
      const bars = closed.filter((b) => b.interval === interval).map((b) => b.kline);
      const open = direct.openBar(interval);
      if (open !== null) bars.push(open.kline);
      expected.set(interval, bars);
    }

    const market = new SimMarket({
      clock: { now: () => first.time },
      seed: 1,
      logger: silentLogger(),
      source: { kind: 'replay', csvPath: path, symbol: 'BTCUSDT', speed: 'max' },
    });
    const endpoints = market.endpoints();
    const call = (path: string, params: Record<string, string>): Json => {
      const endpoint = endpoints.find((e) => e.path === path);
      if (endpoint === undefined) throw new Error(path);
      return endpoint.handle({ params, accountId: null, now: last.time });
    };
    market.start();
    await vi.waitFor(
      () => {
        const tail = call('/fapi/v1/aggTrades', { symbol: 'BTCUSDT', limit: '1' }) as { a: number }[];
        expect(tail[0]?.a).toBe(last.aggTradeId);
      },
      { timeout: 10_000, interval: 20 },
    );
    market.stop();
    const tape = call('/fapi/v1/aggTrades', {
      symbol: 'BTCUSDT',
      fromId: String(first.aggTradeId),
      limit: '3',
    }) as Json[];
    // Written at the symbol's scales (BTCUSDT: 2 price and 3 quantity digits), as Binance writes them.
    const num = (text: string): string => Decimal.parse(text).normalize().toString();
    const row = tape[0] as { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean };
    expect(row).toMatchObject({
      a: first.aggTradeId,
      f: first.firstTradeId,
      l: first.lastTradeId,
      T: first.time,
    });
    expect(row.m).toBe(first.buyerIsMaker);
    expect(num(row.p)).toBe(num(first.price));
    expect(num(row.q)).toBe(num(first.quantity));
    expect(row.p).toMatch(/^\d+\.\d{2}$/);
    const liveStart = Math.floor(first.time / 60_000) * 60_000;
    for (const interval of ['1m', '5m', '1h'] as const) {
      const body = Buffer.from(
        JSON.stringify(call('/fapi/v1/klines', { symbol: 'BTCUSDT', interval, limit: '1500' })),
      );
      const served = parseRestKlines(body, last.time);
      // Every interval has 1,500 bars from the first second: the generated past, then the replay.
      expect(served).toHaveLength(1500);
      const want = (expected.get(interval) ?? []).filter((k) => k.openTime >= liveStart);
      const live = served.filter((k) => k.openTime >= liveStart);
      expect(live.length).toBe(want.length);
      const values = (k: KlineObject) =>
        [
          k.open,
          k.high,
          k.low,
          k.close,
          k.volume,
          k.quoteVolume,
          k.takerBuyVolume,
          k.takerBuyQuoteVolume,
        ].map(num);
      expect(live.map((k) => [k.openTime, k.trades, ...values(k)])).toEqual(
        want.map((k) => [k.openTime, k.trades, ...values(k)]),
      );
      // The past ends where the dump begins.
      const before = served.filter((k) => k.closeTime < liveStart).at(-1);
      if (interval === '1m') expect(num(before?.close ?? '0')).toBe(num(first.price));
    }
    expect(market.lastPrice('BTCUSDT').normalize().toString()).toBe(
      Decimal.parse(last.price).normalize().toString(),
    );
  });
});
