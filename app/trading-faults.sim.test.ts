// System test: a live trader's orders through the simulator's faults (429, 418, 503-unknown, dropped streams, clock skew): no order twice, every order's end known.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BookAccount } from '../trader/engine/book-market-data.js';
import { FileOrderJournal } from '../trader/execution/order-journal.js';
import { defaultRiskSettings } from '../ts/config/risk-config.js';
import { Decimal } from '../ts/exact/decimal.js';
import { decodeOrders, TERMINAL_ORDER_STATUSES } from '../ts/exchange/usdm-decoders.js';
import { silentLogger } from '../ts/log/logger.js';
import { type LiveTrading, startLiveTrading } from './testing/live-trading-rig.js';
import { CollectorRig, eventually } from './testing/system-rig.js';

const d = Decimal.parse;
/**
 * account v3 and positionRisk v3 leave flat symbols out: each poll marks its list complete, and
 * the hub sets a position it holds that the list leaves out to flat, so one closed while the user
 * stream was down is flat after the next poll.
 */
const PACED_COLLECTORS = {
  account: { instances: 1, intervalMs: 1000, version: 'v3' },
  positionRisk: { instances: 1, intervalMs: 1000, version: 'v3' },
  income: { instances: 1, intervalMs: 1000 },
  tick: { instances: 1, maxPollsPerSecond: 2 },
};
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;

let rig: CollectorRig | undefined;
let live: LiveTrading | undefined;
afterEach(async () => {
  await live?.stop();
  live = undefined;
  await rig?.stop();
  rig = undefined;
}, 60_000);

/** Places an order at the simulator inside it, as another tool of the account would (no stream sees it go out). */
function placeInside(r: CollectorRig, params: Record<string, string>): void {
  const handler = r.sim.engine.endpoints().find((e) => e.method === 'POST' && e.path === '/fapi/v1/order');
  if (handler === undefined) throw new Error('the simulator has no order endpoint');
  handler.handle({ params, accountId: 'account-1', now: r.sim.clock.now() });
}

/** Every order the simulator holds for `symbol`, read inside it (no request counted, no fault applied). */
function exchangeOrders(r: CollectorRig, symbol: string) {
  const handler = r.sim.engine.endpoints().find((e) => e.method === 'GET' && e.path === '/fapi/v1/allOrders');
  if (handler === undefined) throw new Error('the simulator has no allOrders endpoint');
  return decodeOrders(handler.handle({ params: { symbol }, accountId: 'account-1', now: r.sim.clock.now() }));
}

async function fault(r: CollectorRig, spec: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${r.sim.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify(spec) });
  expect(answer.status).toBe(200);
}

describe('orders through exchange faults', () => {
  it('429, 418, 503 with the order placed, dropped streams and a skewed clock: zero duplicates, every order final', async () => {
    rig = await CollectorRig.start({ collectors: PACED_COLLECTORS });
    const r = rig;
    for (const kind of ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const)
      await r.collector(kind);
    // The strategy's orders only (no stop-loss ladders beside them).
    live = await startLiveTrading(r, { ...defaultRiskSettings(), enabled: false });
    const l = live;
    await eventually(
      () => SYMBOLS.every((s) => l.runtime.market.lastPriceExact(s) !== undefined),
      'prices in the book',
      15_000,
    );
    const engine = l.runtime.engine;
    const size: Record<string, string> = { BTCUSDT: '0.010', ETHUSDT: '0.100' };
    let step = 0;
    const book = new BookAccount(l.trader.book, {
      symbolId: (n: string) => l.trader.feed.symbolId(n),
      symbols: () => l.trader.client.symbols,
    });
    /** Waits until the trader's book shows what the exchange holds (the next target is sized from it). */
    const settled = async (): Promise<void> => {
      const agree = () =>
        SYMBOLS.every((s) => {
          const truth = r.truth().positions.find((p) => p.symbol === s && p.positionSide === 'BOTH');
          return book.position(s).amount.eq(d(truth?.positionAmt ?? '0'));
        });
      try {
        await eventually(agree, `the book to show the exchange’s positions after step ${step}`, 30_000);
      } catch (error) {
        const seen = SYMBOLS.map((s) => {
          const truth = r.truth().positions.find((p) => p.symbol === s && p.positionSide === 'BOTH');
          return `${s}: book ${book.position(s).amount} exchange ${truth?.positionAmt}`;
        });
        throw new Error(`${error instanceof Error ? error.message : String(error)} (${seen.join('; ')})`);
      }
    };
    /** Asks for a position (a multiple of the symbol's size), waits for the executor and the book. */
    const target = async (symbol: string, units: number): Promise<void> => {
      step += 1;
      engine.submitTarget(
        'faults',
        symbol,
        d(size[symbol] ?? '0').mul(Decimal.fromInt(units)),
        `step ${step}`,
      );
      await engine.idle();
      await settled();
    };

    // 429 on every request for 1.5 s: the executor waits as told and sends the same client id again.
    await fault(r, { rateLimitForMs: 1500 });
    await target('BTCUSDT', 1);
    // 418 for two seconds: nothing is sent until it ends.
    await fault(r, { banForMs: 2000 });
    await target('ETHUSDT', 1);
    // 503 after the order was placed: found by its client id, not sent twice.
    await fault(r, { unknownStatusNextOrders: 2 });
    await target('BTCUSDT', 2);
    await target('ETHUSDT', -1);
    // Every websocket dropped and every listen key expired while orders go out.
    await fault(r, { dropWebsockets: true, expireListenKeys: true });
    await target('BTCUSDT', 0);
    await target('ETHUSDT', 0);
    // The exchange's clock 10 s ahead: -1021, server time resynced, sent once.
    await fault(r, { clockSkewMs: 10_000 });
    await target('BTCUSDT', -1);
    await fault(r, { clockSkewMs: -10_000 });
    await target('ETHUSDT', 2);
    // Everything at once.
    await fault(r, {
      clockSkewMs: 0,
      unknownStatusNextOrders: 1,
      rateLimitNextRequests: 1,
      dropWebsockets: true,
    });
    await target('BTCUSDT', 0);
    await target('ETHUSDT', 0);
    await fault(r, { reset: true });

    const served = (await (await fetch(`${r.sim.restUrl}/_sim/faults`)).json()) as {
      served: Record<string, number>;
    };
    expect(served.served.rateLimited).toBeGreaterThanOrEqual(2);
    expect(served.served.banned).toBeGreaterThanOrEqual(1);
    expect(served.served.unknownStatus).toBe(3);
    expect(served.served.dropped).toBeGreaterThanOrEqual(1);

    // Every order the trader decided is final in its journal, and the exchange agrees.
    await engine.executor.resolveUnknown();
    const journal = new FileOrderJournal(join(l.stateDir, 'orders.jsonl'), silentLogger('journal'));
    expect(journal.unresolved()).toEqual([]);
    const orders = SYMBOLS.flatMap((s) => exchangeOrders(r, s));
    const count = new Map<string, number>();
    for (const o of orders) count.set(o.clientOrderId, (count.get(o.clientOrderId) ?? 0) + 1);
    expect([...count.entries()].filter(([, n]) => n > 1)).toEqual([]);
    // Ten targets, one a flip (two legs): most orders reach the exchange; one a fault refused for
    // good (a 429 past the executor's retries, a second -1021) is final in the journal instead.
    expect(orders.length).toBeGreaterThanOrEqual(8);
    expect(journal.all().length).toBeGreaterThanOrEqual(11);
    for (const o of orders) {
      expect(TERMINAL_ORDER_STATUSES).toContain(o.status);
      expect(journal.get(o.clientOrderId)?.status).toBe(o.status);
    }
    // What the journal holds that the exchange does not was refused or never sent, and says so.
    for (const entry of journal.all()) {
      if (!count.has(entry.clientOrderId))
        expect(['REJECTED', 'NOT_SENT', 'NOT_FOUND']).toContain(entry.status);
    }
    // Both symbols flat at the exchange at the end: every step's order was executed once.
    for (const s of SYMBOLS) {
      const p = r.truth().positions.find((q) => q.symbol === s && q.positionSide === 'BOTH');
      expect(d(p?.positionAmt ?? '0').isZero()).toBe(true);
    }
  }, 180_000);

  it('a position closed while the user stream is down is flat after the reconciliation (v3 leaves it out)', async () => {
    // No pollers: the user-stream collector's reconciliation (account v3) is the only REST read.
    rig = await CollectorRig.start({ collectors: PACED_COLLECTORS });
    const r = rig;
    for (const kind of ['universe', 'tick', 'stream'] as const) await r.collector(kind);
    const userStream = await r.collector('user-stream');
    live = await startLiveTrading(r, { ...defaultRiskSettings(), enabled: false });
    const l = live;
    await eventually(() => l.runtime.market.lastPriceExact('BTCUSDT') !== undefined, 'a BTC price', 15_000);
    const book = new BookAccount(l.trader.book, {
      symbolId: (n: string) => l.trader.feed.symbolId(n),
      symbols: () => l.trader.client.symbols,
    });
    const exchange = () =>
      d(
        r.truth().positions.find((p) => p.symbol === 'BTCUSDT' && p.positionSide === 'BOTH')?.positionAmt ??
          '0',
      );
    l.runtime.engine.submitTarget('outage', 'BTCUSDT', d('0.010'), 'open');
    await l.runtime.engine.idle();
    await eventually(() => book.position('BTCUSDT').amount.eq(d('0.010')), 'the long in the book', 30_000);

    // The user stream goes down; the position is closed meanwhile, outside this trader.
    await r.kill(userStream);
    placeInside(r, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'MARKET',
      quantity: '0.010',
      reduceOnly: 'true',
    });
    expect(exchange().isZero()).toBe(true);
    // Nothing told the hub: the book still holds the long.
    expect(book.position('BTCUSDT').amount.eq(d('0.010'))).toBe(true);

    // The stream comes back and reconciles with account v3, whose positions leave BTCUSDT out.
    await r.collector('user-stream');
    await eventually(() => book.position('BTCUSDT').amount.isZero(), 'BTCUSDT flat in the book', 30_000);
  }, 120_000);
});
