// End to end: the simulator's stream loses aggTrades mid-minute; the stream collector fetches them by id, and the hub's bar is the exchange's.
import { afterEach, describe, expect, it } from 'vitest';
import type { KlineObject } from '../ts/native/index.js';
import { parseRestKlines } from '../ts/native/parse.js';
import { CollectorRig, eventually, exact } from './testing/system-rig.js';

const rigs: CollectorRig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop();
});

const SYMBOL = 'BTCUSDT';
const MINUTE = 60_000;
/** aggTrade stream messages the simulator drops (about 0.4 s of BTCUSDT trades). */
const DROPPED = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fields a bar must share with the exchange's kline, exactly (decimals compared by value). */
function values(
  k: Pick<
    KlineObject,
    | 'openTime'
    | 'open'
    | 'high'
    | 'low'
    | 'close'
    | 'volume'
    | 'quoteVolume'
    | 'trades'
    | 'takerBuyVolume'
    | 'takerBuyQuoteVolume'
  >,
) {
  return {
    openTime: k.openTime,
    open: exact(k.open),
    high: exact(k.high),
    low: exact(k.low),
    close: exact(k.close),
    volume: exact(k.volume),
    quoteVolume: exact(k.quoteVolume),
    trades: k.trades,
    takerBuyVolume: exact(k.takerBuyVolume),
    takerBuyQuoteVolume: exact(k.takerBuyQuoteVolume),
  };
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

    // Nothing trades or streams from now until after the minute: the collector closes the bar by
    // the exchange's clock (as its stream last showed it) and sends it; the exchange's closing kline update comes only after the freeze,
    // when the hub's bar (closed: final) is already the collector's.
    r.sim.market.freeze(minute + MINUTE + 2_000);
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
    expect(values(bar)).toEqual(values(exchangeBar));

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
});
