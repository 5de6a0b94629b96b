// End to end: the simulator's stream loses aggTrades or stalls mid-minute (all connections or one); the stream collector fetches the trades by id, and the hub's bars are the exchange's.
import { afterEach, describe, expect, it } from 'vitest';
import type { KlineObject } from '../ts/native/index.js';
import { parseRestKlines } from '../ts/native/parse.js';
import { CollectorRig, eventually, klineValues, replacedAfterStall } from './testing/system-rig.js';

const rigs: CollectorRig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop();
});

const SYMBOL = 'BTCUSDT';
const MINUTE = 60_000;
/** aggTrade stream messages the simulator drops (about 0.4 s of BTCUSDT trades). */
const DROPPED = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records every 1m bar of `symbols` opening at one of `minutes` as the hub first had it closed
 * (closed bars are final at the hub), polling every 20 ms; `stop` ends the polling.
 */
function watchFirstClosed(r: CollectorRig, symbols: readonly string[], minutes: readonly number[]) {
  const firstClosed = new Map<string, KlineObject>();
  const timer = setInterval(() => {
    for (const symbol of symbols) {
      const id = r.hub.symbols.id(symbol) ?? -1;
      for (const e of r.hub.book.klines(id, '1m')) {
        const key = `${symbol} ${e.kline.openTime}`;
        if (e.kline.closed && minutes.includes(e.kline.openTime) && !firstClosed.has(key)) {
          firstClosed.set(key, e.kline);
        }
      }
    }
  }, 20);
  return { firstClosed, stop: () => clearInterval(timer) };
}

/** Each bar, as it first became final at the hub, is the exchange's closed kline exactly. */
async function expectExchangeBars(
  r: CollectorRig,
  symbols: readonly string[],
  minutes: readonly number[],
  firstClosed: ReadonlyMap<string, KlineObject>,
): Promise<void> {
  const [first] = minutes;
  if (first === undefined) return;
  for (const symbol of symbols) {
    const served = await r.api().klines({ symbol, interval: '1m', startTime: first, limit: minutes.length });
    const exchangeBars = parseRestKlines(served.body, served.serverTimeMs);
    for (const openTime of minutes) {
      const exchangeBar = exchangeBars.find((k) => k.openTime === openTime);
      const hubBar = firstClosed.get(`${symbol} ${openTime}`);
      if (exchangeBar === undefined || hubBar === undefined) throw new Error(`${symbol} ${openTime} missing`);
      expect(exchangeBar.closed, `${symbol} ${openTime} closed at the exchange`).toBe(true);
      expect(klineValues(hubBar), `${symbol} ${openTime}`).toEqual(klineValues(exchangeBar));
    }
  }
}

describe('aggTrade gap backfill, simulator → stream collector → hub', () => {
  it('a gap in the middle of a minute is healed from REST aggTrades by id: the hub closes that minute with the exchange’s kline, from the collector’s own bars', async () => {
    const r = await CollectorRig.start();
    rigs.push(r);
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => Number(detail().streams) > 0, 'the stream collector subscribed');

    // The collector sends only bars it saw whole: the first minute that opens after it subscribed.
    const minute = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    await sleep(minute + 5_000 - Date.now());
    const id = r.hub.symbols.id(SYMBOL) ?? -1;
    await eventually(
      () => r.hub.book.klines(id, '1m').some((e) => e.kline.openTime === minute),
      'the minute’s open bar at the hub',
    );

    // Mid-minute, the exchange's stream loses 20 BTCUSDT trades (they stay on its tape and in its klines).
    const response = await fetch(`${r.sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ dropAggTrades: { symbol: SYMBOL, count: DROPPED } }),
    });
    expect(response.status).toBe(200);
    await eventually(
      () => Number(detail().holdsHealed) >= 1,
      'the hold healed from REST aggTrades',
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(detail())}`);
    });
    expect(Date.now()).toBeLessThan(minute + MINUTE - 1_000); // still inside the minute
    const faults = (await (await fetch(`${r.sim.restUrl}/_sim/faults`)).json()) as {
      served: { aggTradesDropped: number };
    };
    expect(faults.served.aggTradesDropped).toBe(DROPPED);

    // Nothing trades from now until after the minute, while `!markPrice@arr@1s` keeps beating: the
    // collector closes the bar by the exchange's clock as that heartbeat shows it, and sends it.
    // The exchange's own closing kline update would come within 250 ms of the end, before the
    // collector's (500 ms lag): it is lost here, so the hub's final bar can only be the collector's.
    r.sim.market.quiet(minute + MINUTE + 2_000);
    await sleep(600); // the kline update of the last trades is out; the next one is the closing one
    r.sim.market.dropStreamMessages(`${SYMBOL.toLowerCase()}@kline_1m`, 1);
    const hubBar = () => r.hub.book.klines(id, '1m').find((e) => e.kline.openTime === minute)?.kline;
    const closeBy = minute + MINUTE + 1_500 - Date.now();
    await eventually(() => hubBar()?.closed === true, 'the minute closed at the hub', closeBy).catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(hubBar())} ${JSON.stringify(detail())}`);
      },
    );
    expect(Date.now()).toBeLessThan(minute + MINUTE + 2_000);
    const served = await r.api().klines({ symbol: SYMBOL, interval: '1m', startTime: minute, limit: 1 });
    const exchangeBar = parseRestKlines(served.body, served.serverTimeMs)[0];
    expect(exchangeBar?.closed).toBe(true);
    expect(exchangeBar?.trades).toBeGreaterThan(DROPPED);
    const bar = hubBar();
    expect(bar).toBeDefined();
    if (bar === undefined || exchangeBar === undefined) return;
    expect(klineValues(bar)).toEqual(klineValues(exchangeBar));
    // The collector's bar: its newest information is its last trade's, inside the minute (the
    // exchange's closing update is stamped after the end).
    expect(bar.asOf).toBeLessThan(minute + MINUTE);

    // Counted: one hold, healed; the missing trades came by REST; no gap was applied, nothing released.
    const d = detail();
    expect(d.holds).toBe(1);
    expect(d.holdsReleased).toBe(0);
    expect(d.aggTradeGaps).toBe(0);
    expect(Number(d.tradesBackfilled)).toBeGreaterThanOrEqual(DROPPED);
    expect(Number(d.backfillPages)).toBeGreaterThanOrEqual(1);
    expect(d.backfillPageFailures).toBe(0);
    expect(Number(d.barRefreshes)).toBeGreaterThanOrEqual(1);
    const requests = r.requests.filter((q) => q.path === '/fapi/v1/aggTrades');
    expect(requests.length).toBe(d.backfillPages);
    expect(requests.every((q) => new URLSearchParams(q.query).get('fromId') !== null)).toBe(true);
  }, 180_000);

  it('after a lost connection the trades missed meanwhile are fetched by id for every symbol: holds heal, none is given up, no gap applied', async () => {
    const r = await CollectorRig.start();
    rigs.push(r);
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => Number(detail().frames) > 200, 'trades streaming');
    const response = await fetch(`${r.sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ dropWebsockets: true }),
    });
    expect(response.status).toBe(200);
    await eventually(() => Number(detail().reconnects) >= 1, 'the stream reconnected');
    await eventually(
      () => Number(detail().holds) >= 6 && detail().holding === 0,
      'a hold per symbol, each ended',
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(detail())}`);
    });
    const d = detail();
    expect(d.holdsReleased).toBe(0);
    expect(d.holdsHealed).toBe(d.holds);
    expect(d.aggTradeGaps).toBe(0);
    // Trades made while the connection was down came by REST aggTrades, asked by id.
    expect(Number(d.tradesBackfilled)).toBeGreaterThan(0);
    const requests = r.requests.filter((q) => q.path === '/fapi/v1/aggTrades');
    expect(requests.length).toBe(d.backfillPages);
    expect(requests.every((q) => new URLSearchParams(q.query).get('fromId') !== null)).toBe(true);
  }, 60_000);

  it('a market stream that stalls mid-minute while the exchange trades on closes no bar as final unlike the exchange’s kline: the stall is counted, the route reconnected, the missed trades fetched by id', async () => {
    const r = await CollectorRig.start();
    rigs.push(r);
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const symbols = [...r.hub.symbols.names];
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => Number(detail().streams) > 0, 'the stream collector subscribed');
    // The first minute the collector sees whole, and the next one.
    const minute = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    const minutes = [minute, minute + MINUTE];

    // Every bar of those minutes as the hub first had it closed (closed bars are final at the hub).
    const { firstClosed, stop } = watchFirstClosed(r, symbols, minutes);
    try {
      // 8 s before the first minute ends, every market connection goes silent for 20 s (open,
      // answering pings) while the exchange trades on.
      await sleep(minute + MINUTE - 8_000 - Date.now());
      const response = await fetch(`${r.sim.restUrl}/_sim/faults`, {
        method: 'POST',
        body: JSON.stringify({ stallStreamsForMs: 20_000 }),
      });
      expect(response.status).toBe(200);
      await eventually(
        () => firstClosed.size === symbols.length * minutes.length,
        'every bar of both minutes closed at the hub',
        minute + 2 * MINUTE + 10_000 - Date.now(),
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${[...firstClosed.keys()].join(', ')} ${JSON.stringify(detail())}`,
        );
      });
    } finally {
      stop();
    }

    // Each bar, as it first became final at the hub, is the exchange's kline exactly.
    await expectExchangeBars(r, symbols, minutes, firstClosed);

    // Counted: one stall, the route reconnected because of it, every symbol's missed trades fetched
    // by id (holds healed, none given up, no gap applied).
    const d = detail();
    expect(d.marketStalls).toBe(1);
    expect(Number(d.marketStallReconnects)).toBeGreaterThanOrEqual(1);
    expect(Number(d.reconnects)).toBeGreaterThanOrEqual(1);
    expect(Number(d.holds)).toBeGreaterThanOrEqual(symbols.length);
    expect(d.holdsReleased).toBe(0);
    expect(d.aggTradeGaps).toBe(0);
    expect(Number(d.tradesBackfilled)).toBeGreaterThan(0);
    const requests = r.requests.filter((q) => q.path === '/fapi/v1/aggTrades');
    expect(requests.every((q) => new URLSearchParams(q.query).get('fromId') !== null)).toBe(true);
  }, 240_000);
  it('one market connection of several stalls mid-minute while the others deliver: only it is reconnected, within connectionStallMs, its missed trades fetched by id, and every bar is the exchange’s', async () => {
    const STALL_MS = 10_000; // the smallest connectionStallMs the config takes
    const r = await CollectorRig.start({
      collectors: {
        // 19 streams (the heartbeat, aggTrade + 1m + 5m klines of six symbols), 4 a connection: 5 connections.
        stream: {
          instances: 1,
          intervals: ['1m', '5m'],
          maxStreamsPerConnection: 4,
          connectionStallMs: STALL_MS,
        },
      },
    });
    rigs.push(r);
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const symbols = [...r.hub.symbols.names];
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => Number(detail().streams) === 19 + symbols.length, 'every stream subscribed');
    expect(detail().connections).toBe(5 + 2); // and six book tickers on /public, 4 a connection
    const minute = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    const minutes = [minute, minute + MINUTE];
    const { firstClosed, stop } = watchFirstClosed(r, symbols, minutes);
    // The last symbol's aggTrades ride on a connection without the heartbeat (it is subscribed first).
    const stalledStream = `${(symbols.at(-1) ?? '').toLowerCase()}@aggTrade`;
    let stalledAt = 0;
    try {
      // 8 s before the first minute ends, that connection goes silent (open, answering pings) for
      // longer than this test; the exchange trades on, and every other connection delivers.
      await sleep(minute + MINUTE - 8_000 - Date.now());
      stalledAt = Date.now();
      expect(await r.stallConnection(stalledStream, 600_000)).toBe(1);

      const reconnectedAfter = await replacedAfterStall(
        () => detail().connectionStallReconnects === 1,
        'the stalled connection replaced',
        stalledAt,
        STALL_MS,
        detail,
      );
      expect(reconnectedAfter).toBeGreaterThanOrEqual(STALL_MS - 1_000);
      expect(reconnectedAfter).toBeLessThan(STALL_MS + 3_000);

      await eventually(
        () => firstClosed.size === symbols.length * minutes.length,
        'every bar of both minutes closed at the hub',
        minute + 2 * MINUTE + 10_000 - Date.now(),
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${[...firstClosed.keys()].join(', ')} ${JSON.stringify(detail())}`,
        );
      });
    } finally {
      stop();
    }

    // Each bar, the stalled connection's symbols' among them, as it first became final at the hub
    // is the exchange's kline exactly.
    await expectExchangeBars(r, symbols, minutes, firstClosed);

    // Counted: one connection stall, one reconnect, of that connection only (no other connection
    // of either route reconnected, no route-wide stall); the missed trades came by id.
    const d = detail();
    expect(d.connectionStalls).toBe(1);
    expect(d.connectionStallReconnects).toBe(1);
    expect(d.stalledConnections).toBe(0);
    expect(d.marketStalls).toBe(0);
    expect(d.reconnects).toBe(1);
    expect(Number(d.holds)).toBeGreaterThanOrEqual(1);
    expect(d.holdsReleased).toBe(0);
    expect(d.aggTradeGaps).toBe(0);
    expect(Number(d.tradesBackfilled)).toBeGreaterThan(0);
    const requests = r.requests.filter((q) => q.path === '/fapi/v1/aggTrades');
    expect(requests.every((q) => new URLSearchParams(q.query).get('fromId') !== null)).toBe(true);
  }, 240_000);
});
