// System test: the risk engine and stop-loss ladders of a live trader against the simulator over HTTP, fed by the hub and real collectors, with the simulator's faults.
import { afterEach, describe, expect, it } from 'vitest';
import { alertRiskEvents } from '../trader/risk/risk-alerts.js';
import { writeOwnerCommand } from '../trader/risk/risk-state-store.js';
import { coverage, ladders } from '../trader/stop-loss/ladder-decision.js';
import { parseLadderStopId } from '../trader/stop-loss/ladder-ids.js';
import type { AlertInput } from '../ts/alerts/alert.js';
import { defaultRiskSettings, type RiskSettings } from '../ts/config/risk-config.js';
import { Decimal } from '../ts/exact/decimal.js';
import { parseUserEvent } from '../ts/native/parse.js';
import { exchangeTruth, type LiveTrading, startLiveTrading } from './testing/live-trading-rig.js';
import { CollectorRig, eventually } from './testing/system-rig.js';
import { PACED_COLLECTORS } from './testing/trading-session.js';

const d = Decimal.parse;
const GRACE_MS = 3000;

/** Risk settings for tests: periodic checks slow (so what happens fast is event-driven), a short grace. */
function settings(change: (s: RiskSettings) => RiskSettings = (s) => s): RiskSettings {
  const s = defaultRiskSettings();
  return change({
    ...s,
    stopLoss: { ...s.stopLoss, resyncMs: 60_000, fullResyncMs: 60_000, coverageGraceMs: GRACE_MS },
    lossGuard: { ...s.lossGuard, checkMs: 200 },
  });
}

const COLLECTORS = ['universe', 'user-stream', 'account', 'position-risk', 'tick', 'stream'] as const;
let rig: CollectorRig | undefined;
let live: LiveTrading | undefined;

// Stopping waits for collectors to finish requests the simulator's 429s delayed: allow it time.
afterEach(async () => {
  await live?.stop();
  live = undefined;
  await rig?.stop();
  rig = undefined;
}, 30_000);

async function start(
  risk?: Record<string, unknown>,
  riskSettings = settings(),
): Promise<{ rig: CollectorRig; live: LiveTrading }> {
  rig = await CollectorRig.start({ collectors: PACED_COLLECTORS, ...(risk === undefined ? {} : { risk }) });
  for (const kind of COLLECTORS) await rig.collector(kind);
  live = await startLiveTrading(rig, riskSettings);
  const l = live;
  // Orders are sized from the book's last price and refused on a stale one: wait for both symbols.
  await eventually(
    () =>
      ['BTCUSDT', 'ETHUSDT'].every(
        (s) => l.runtime.market.lastPriceExact(s) !== undefined && l.runtime.market.quote(s) !== undefined,
      ),
    'prices in the book',
    10_000,
  );
  // An opening order is refused while the balance is unknown (and the positions with it): the
  // account collector's first poll can come after the prices on a loaded machine.
  await eventually(() => l.trader.book.balance('USDT') !== null, 'the balance in the book', 10_000);
  return { rig, live };
}

/** `eventually`, failing with the pre-trade refusals counted so far (why an order never went out). */
async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  try {
    await eventually(check, what, timeoutMs);
  } catch (e) {
    const refusals = Object.entries(live?.runtime.risk?.gate.refusals ?? {}).filter(([, n]) => n > 0);
    throw new Error(
      `${(e as Error).message}; pre-trade refusals: ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
  }
}

/** ALGO_UPDATEs of the simulated account in the order the exchange sent them, and its fills' times. */
function algoEvents(r: CollectorRig): {
  algos: Array<{ id: string; status: string; time: number }>;
  fills: number[];
} {
  const seen = { algos: [] as Array<{ id: string; status: string; time: number }>, fills: [] as number[] };
  r.sim.engine.onUserEvent((_account, event) => {
    const parsed = parseUserEvent(Buffer.from(JSON.stringify(event)));
    const u = parsed.algoUpdate;
    if (u !== undefined) seen.algos.push({ id: u.clientAlgoId, status: u.status, time: r.sim.clock.now() });
    if (parsed.orderUpdate?.executionType === 'TRADE') seen.fills.push(r.sim.clock.now());
  });
  return seen;
}

function covered(
  r: CollectorRig,
  symbol: string,
): { amount: Decimal; covered: Decimal; generations: number } {
  const t = exchangeTruth(r, symbol);
  return { amount: t.amount, covered: coverage(t.stops, t.amount), generations: ladders(t.stops).length };
}

async function move(r: CollectorRig, symbol: string, price: Decimal): Promise<void> {
  const answer = await fetch(`${r.sim.restUrl}/_sim/market`, {
    method: 'POST',
    body: JSON.stringify({ symbol, price: price.toFixed(2) }),
  });
  expect(answer.status).toBe(200);
}

async function faults(r: CollectorRig, spec: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${r.sim.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify(spec) });
  expect(answer.status).toBe(200);
}

/** Counted faults the simulator still has to serve (it sets these counts, it does not add to them). */
async function pendingFaults(
  r: CollectorRig,
): Promise<{ rateLimitNextRequests: number; unknownStatusNextOrders: number }> {
  const answer = await fetch(`${r.sim.restUrl}/_sim/faults`);
  return (await answer.json()) as { rateLimitNextRequests: number; unknownStatusNextOrders: number };
}

/**
 * Arms `more` counted faults on top of those still pending: a 429 holds the weight budget for its
 * Retry-After, so an earlier batch may not be served yet, and setting the count would drop its rest.
 */
async function addFaults(
  r: CollectorRig,
  more: { rateLimitNextRequests?: number; unknownStatusNextOrders?: number; dropWebsockets?: boolean },
): Promise<void> {
  const pending = await pendingFaults(r);
  await faults(r, {
    ...more,
    ...(more.rateLimitNextRequests === undefined
      ? {}
      : { rateLimitNextRequests: pending.rateLimitNextRequests + more.rateLimitNextRequests }),
    ...(more.unknownStatusNextOrders === undefined
      ? {}
      : { unknownStatusNextOrders: pending.unknownStatusNextOrders + more.unknownStatusNextOrders }),
  });
}

describe('stop-loss ladders against the simulator', () => {
  it('ladders a new position within one user-data round trip, replaces it make-before-break, cancels it on close', async () => {
    const { rig: r, live: l } = await start();
    const seen = algoEvents(r);
    const events = seen.algos;
    const before = r.requests.length;
    l.runtime.engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'open');
    await until(() => exchangeTruth(r, 'BTCUSDT').stops.length === 5, 'a ladder of five stops', 5000);
    const filledAt = seen.fills[0] ?? Number.NaN;
    const placedAt = Math.max(...events.filter((e) => e.status === 'NEW').map((e) => e.time));
    // Event-driven: the periodic resync is a minute away; the ladder follows the fill by one trip
    // through the user-data stream, the hub and the trader's book, and the placements themselves.
    expect(placedAt - filledAt).toBeLessThan(1000);
    const t = exchangeTruth(r, 'BTCUSDT');
    expect(t.amount.toString()).toBe('0.01');
    const tick = d('0.1');
    const stops = [...t.stops].sort(
      (a, b) =>
        (parseLadderStopId(a.clientAlgoId)?.rung ?? 0) - (parseLadderStopId(b.clientAlgoId)?.rung ?? 0),
    );
    stops.forEach((s, rung) => {
      expect(s.quantity.toString()).toBe('0.002');
      expect(s.side).toBe('SELL');
      expect(s.reduceOnly).toBe(true);
      const level = t.entry
        .mul(d('100').sub(d('5').add(d('0.5').mul(Decimal.fromInt(rung)))))
        .div(d('100'), 10);
      expect(s.triggerPrice?.eq(level.snap(tick, 'ceil'))).toBe(true);
    });
    // Every request that placed a stop went to POST /fapi/v1/algoOrder.
    const placing = r.requests
      .slice(before)
      .filter((q) => q.body.includes('STOP_MARKET') || q.query.includes('STOP_MARKET'));
    expect(placing.map((q) => `${q.method} ${q.path}`)).toEqual(Array(5).fill('POST /fapi/v1/algoOrder'));

    const old = new Set(t.stops.map((s) => s.clientAlgoId));
    const mark = r.requests.length;
    l.runtime.engine.submitTarget('test', 'BTCUSDT', d('0.012'), 'grow by 20 %');
    await eventually(
      () => {
        const now = exchangeTruth(r, 'BTCUSDT').stops;
        return now.length === 5 && now.every((s) => !old.has(s.clientAlgoId));
      },
      'a new ladder instead of the old one',
      5000,
    );
    const grown = exchangeTruth(r, 'BTCUSDT');
    expect(grown.stops.reduce((sum, s) => sum.add(s.quantity), Decimal.ZERO).toString()).toBe('0.012');
    // Make-before-break: every new stop was live before the first old one was cancelled, and the
    // new ladder was read back from the exchange in between.
    const firstCancel = events.findIndex((e) => e.status === 'CANCELED' && old.has(e.id));
    const newIds = new Set(grown.stops.map((s) => s.clientAlgoId));
    expect(events.slice(0, firstCancel).filter((e) => e.status === 'NEW' && newIds.has(e.id))).toHaveLength(
      5,
    );
    const requests = r.requests.slice(mark);
    const lastPost = requests.findLastIndex((q) => q.method === 'POST' && q.path === '/fapi/v1/algoOrder');
    const firstDelete = requests.findIndex((q) => q.method === 'DELETE' && q.path === '/fapi/v1/algoOrder');
    expect(lastPost).toBeLessThan(firstDelete);
    expect(requests.slice(lastPost, firstDelete).some((q) => q.path === '/fapi/v1/openAlgoOrders')).toBe(
      true,
    );

    l.runtime.engine.submitTarget('test', 'BTCUSDT', Decimal.ZERO, 'close');
    await eventually(
      () => r.truth().openAlgoOrders === 0 && r.truth().positions.length === 0,
      'no stop left',
      5000,
    );
    expect(l.runtime.risk?.ladders?.stats.failures).toBe(0);
  }, 30_000);

  it('ends with one ladder per position and no orphan through 503-unknown algo orders, 429s and a dropped user-data stream', async () => {
    const { rig: r, live: l } = await start();
    const engine = l.runtime.engine;
    // Six orders answered 503 -1007 after they ran: the two market orders and four ladder stops.
    await faults(r, { unknownStatusNextOrders: 6 });
    engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'open under 503s');
    engine.submitTarget('test', 'ETHUSDT', d('-0.500'), 'open under 503s');
    await eventually(
      () => covered(r, 'BTCUSDT').generations === 1 && covered(r, 'ETHUSDT').generations === 1,
      'ladders',
      10_000,
    );
    await addFaults(r, { rateLimitNextRequests: 4 });
    engine.submitTarget('test', 'BTCUSDT', d('0.013'), 'grow under 429s');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await addFaults(r, { dropWebsockets: true, unknownStatusNextOrders: 2 });
    engine.submitTarget('test', 'ETHUSDT', d('-0.800'), 'grow with the stream dropped');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await addFaults(r, { rateLimitNextRequests: 3, dropWebsockets: true });
    engine.submitTarget('test', 'BTCUSDT', d('0.006'), 'shrink');
    engine.submitTarget('test', 'ETHUSDT', Decimal.ZERO, 'close');
    // Settled: the faults are over; from here on no position may stay under-covered past the grace.
    // Every injected fault is served before they end (each 503 ran its order, then answered unknown).
    const served = async () =>
      ((await (await fetch(`${r.sim.restUrl}/_sim/faults`)).json()) as { served: Record<string, number> })
        .served;
    await eventually(
      async () => {
        const now = await served();
        return now.unknownStatus === 8 && (now.rateLimited ?? 0) >= 7 && (now.dropped ?? 0) >= 2;
      },
      'every fault served',
      // Each 429 holds the weight budget's requests until its Retry-After ends (the host's whole
      // budget when leased from a hub), so the seven rate-limited answers come one block after
      // another; on a loaded machine that took more than 10 s.
      30_000,
    );
    await faults(r, { reset: true });
    const min = d('0.95');
    const underSince = new Map<string, number>();
    let worst = 0;
    const deadline = Date.now() + 12_000;
    while (Date.now() < deadline) {
      for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
        const c = covered(r, symbol);
        if (c.amount.isZero() || c.covered.gte(c.amount.abs().mul(min))) underSince.delete(symbol);
        else {
          const since = underSince.get(symbol) ?? Date.now();
          underSince.set(symbol, since);
          worst = Math.max(worst, Date.now() - since);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(worst).toBeLessThanOrEqual(GRACE_MS);
    const btc = covered(r, 'BTCUSDT');
    expect(btc.amount.toString()).toBe('0.006');
    expect(btc.generations).toBe(1);
    expect(btc.covered.toString()).toBe('0.006');
    // One ladder: five fresh rungs, or what is left of a kept one that covers the position exactly.
    // ETH is flat: no orphan stop.
    expect(exchangeTruth(r, 'ETHUSDT').stops).toEqual([]);
    expect(r.truth().openAlgoOrders).toBe(exchangeTruth(r, 'BTCUSDT').stops.length);
  }, 60_000);
});

describe('risk rules against the simulator', () => {
  it('closes a position the price moved 7 % against (force-close alone, then with its stops)', async () => {
    const { rig: r, live: l } = await start(
      undefined,
      settings((s) => ({ ...s, stopLoss: { ...s.stopLoss, enabled: false } })),
    );
    const raised: AlertInput[] = [];
    const events = l.runtime.risk?.events;
    if (events !== undefined) alertRiskEvents(events, { raise: (a) => raised.push(a) });
    l.runtime.engine.submitTarget('test', 'ETHUSDT', d('0.300'), 'open');
    await until(() => exchangeTruth(r, 'ETHUSDT').amount.toString() === '0.3', 'position', 5000);
    const entry = exchangeTruth(r, 'ETHUSDT').entry;
    await move(r, 'ETHUSDT', entry.mul(d('0.929')));
    await eventually(() => exchangeTruth(r, 'ETHUSDT').amount.isZero(), 'force-closed', 5000);
    expect(l.runtime.risk?.events.stats().byKind['risk-action:force-close']).toBe(1);
    // The owner is told (the trader's alerter, wired the same way by app/venues/trader-trading.ts).
    expect(raised.filter((a) => a.source === 'risk.force-close')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        details: expect.objectContaining({ symbol: 'ETHUSDT' }),
      }),
    ]);
    expect(r.truth().openAlgoOrders).toBe(0);
  }, 30_000);

  it('with ladders on, a 7 % fall closes the position through its stops and leaves no stop behind', async () => {
    const { rig: r, live: l } = await start();
    l.runtime.engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'open');
    await until(() => exchangeTruth(r, 'BTCUSDT').stops.length === 5, 'ladder', 5000);
    await move(r, 'BTCUSDT', exchangeTruth(r, 'BTCUSDT').entry.mul(d('0.925')));
    await eventually(
      () => exchangeTruth(r, 'BTCUSDT').amount.isZero() && r.truth().openAlgoOrders === 0,
      'closed, no stop left',
      8000,
    );
  }, 30_000);

  it('gives a symbol banned by the income collector no new position; other symbols still trade', async () => {
    // Any realized loss bans a symbol for 4 h (fees alone make a round trip lose).
    const { rig: r, live: l } = await start({ banList: { symbol4h: '-0.0001' } });
    await r.collector('income');
    const engine = l.runtime.engine;
    engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'open');
    await until(() => exchangeTruth(r, 'BTCUSDT').amount.toString() === '0.01', 'position', 5000);
    engine.submitTarget('test', 'BTCUSDT', Decimal.ZERO, 'close at a loss');
    await eventually(() => exchangeTruth(r, 'BTCUSDT').amount.isZero(), 'closed', 5000);
    const banned = () => {
      const id = l.trader.feed.symbolId('BTCUSDT');
      return id !== undefined && l.trader.book.banList().symbols.includes(id);
    };
    await eventually(banned, 'BTCUSDT on the ban list in the trader book', 10_000);
    engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'reopen');
    engine.submitTarget('test', 'ETHUSDT', d('0.100'), 'other symbol');
    await until(() => exchangeTruth(r, 'ETHUSDT').amount.toString() === '0.1', 'ETH opened', 5000);
    expect(exchangeTruth(r, 'BTCUSDT').amount.isZero()).toBe(true);
    expect(l.runtime.risk?.gate.refusals['ban-list']).toBe(1);
  }, 30_000);

  it('switches to HALTED and REDUCING by the owner command: HALTED sends nothing, REDUCING only reduces; the hub shows the state', async () => {
    const { rig: r, live: l } = await start();
    const engine = l.runtime.engine;
    engine.submitTarget('test', 'BTCUSDT', d('0.010'), 'open');
    await until(() => exchangeTruth(r, 'BTCUSDT').stops.length === 5, 'ladder', 5000);
    writeOwnerCommand(l.stateDir, { id: 'halt-1', state: 'HALTED', reason: 'test halt', at: Date.now() });
    await eventually(() => l.runtime.risk?.state.state === 'HALTED', 'HALTED', 3000);
    const mark = r.requests.length;
    engine.submitTarget('test', 'BTCUSDT', d('0.020'), 'grow while halted');
    engine.submitTarget('test', 'ETHUSDT', d('0.100'), 'open while halted');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sends = r.requests
      .slice(mark)
      .filter(
        (q) =>
          (q.method === 'POST' || q.method === 'DELETE') &&
          q.path.startsWith('/fapi/v1/') &&
          q.path !== '/fapi/v1/listenKey',
      );
    expect(sends).toEqual([]);
    await eventually(
      () =>
        r.hub
          .status()
          .peers.some((p) => (p.report?.trading as { state?: string } | undefined)?.state === 'HALTED'),
      "the hub's /status shows HALTED",
      5000,
    );

    writeOwnerCommand(l.stateDir, {
      id: 'reduce-1',
      state: 'REDUCING',
      reason: 'test reduce',
      at: Date.now(),
    });
    await eventually(() => l.runtime.risk?.state.state === 'REDUCING', 'REDUCING', 3000);
    engine.submitTarget('test', 'BTCUSDT', d('0.020'), 'grow while reducing');
    engine.submitTarget('test', 'ETHUSDT', d('0.100'), 'open while reducing');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(exchangeTruth(r, 'BTCUSDT').amount.toString()).toBe('0.01');
    expect(exchangeTruth(r, 'ETHUSDT').amount.isZero()).toBe(true);
    engine.submitTarget('test', 'BTCUSDT', d('0.004'), 'reduce while reducing');
    await until(() => exchangeTruth(r, 'BTCUSDT').amount.toString() === '0.004', 'reduced', 5000);
    // The ladder follows the reduction (stops only reduce, so they are sent in REDUCING).
    await eventually(
      () => covered(r, 'BTCUSDT').covered.toString() === '0.004' && covered(r, 'BTCUSDT').generations === 1,
      'ladder follows',
      5000,
    );
  }, 30_000);
});
