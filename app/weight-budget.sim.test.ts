// One request-weight budget per host: more collectors than the IP's limit allows, on a 600-symbol simulator, leasing from the hub.
import { afterEach, describe, expect, it } from 'vitest';
import { renderFleet } from '../ts/deploy/fleet-view.js';
import { Decimal } from '../ts/exact/decimal.js';
import { BUDGET_KINDS } from '../ts/exchange/budget-kinds.js';
import { connectExchange, type ExchangeLink } from '../ts/exchange/exchange-link.js';
import { HubClient } from '../ts/hub/hub-client.js';
import { type HubHealth, HubHealthSchema, type WeightGroup } from '../ts/hub/hub-status.js';
import { coordinateWeight } from '../ts/hub/hub-weight-coordinator.js';
import { readFullStatus } from '../ts/hub/status-client.js';
import { silentLogger } from '../ts/log/logger.js';
import { CollectorRig, eventually } from './testing/system-rig.js';

const rigs: CollectorRig[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const rig of rigs.splice(0)) await rig.stop();
}, 30_000);

const MINUTE = 60_000;
/** The simulator's IP weight limit; the processes pace to 80 % of what its exchangeInfo states. */
const EXCHANGE_LIMIT = 800;
const PACED_LIMIT = 640;
const GROUP = 'rig-host';

/** A clock skew that puts the exchange `secondsIn` seconds into a minute now, so a boundary comes soon. */
function skewTo(secondsIn: number): number {
  return secondsIn * 1000 - (Date.now() % MINUTE);
}

function groupOf(health: HubHealth): WeightGroup | undefined {
  return HubHealthSchema.parse(health).weight.find((g) => g.group === GROUP);
}

/**
 * A trading process's order traffic through the shared budget: a market order (IP weight 0, it
 * counts toward the order limits) and a query of it by client id (weight 1, kind `order`), every
 * 1.5 s, alternating sides so the position stays small.
 */
function startOrderTraffic(rig: CollectorRig): { link: ExchangeLink; stop: () => Promise<void> } {
  const link = connectExchange(rig.loaded, silentLogger('orders'));
  const hub = new HubClient({
    url: rig.hub.url,
    peer: 'trader-9',
    key: rig.keys.trader,
    logger: silentLogger('t'),
  });
  const stopLeasing = coordinateWeight(link, hub, silentLogger('weight'));
  let running = true;
  const loop = (async () => {
    await hub.connect();
    for (let i = 0; running; i++) {
      const placed = await link.api.newOrder({
        symbol: 'BTCUSDT',
        side: i % 2 === 0 ? 'BUY' : 'SELL',
        type: 'MARKET',
        quantity: Decimal.parse('0.002'),
      });
      await link.api.queryOrder({ symbol: 'BTCUSDT', origClientOrderId: placed.clientOrderId });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
  })();
  return {
    link,
    stop: async () => {
      running = false;
      await loop;
      stopLeasing();
      await hub.close();
      link.close();
    },
  };
}

describe('one weight budget per host, shared through the hub', () => {
  it('holds more collectors than the limit allows to it by kind: no 429, every kind served in priority order, use per host in the status', async () => {
    const rig = await CollectorRig.start({
      universe: 600,
      limits: { requestWeightPerMinute: EXCHANGE_LIMIT },
      // 35 s into a minute: the first window fills within seconds and a boundary comes ~25 s in.
      faults: { clockSkewMs: skewTo(35) },
      exchange: { budget: { group: GROUP } },
      collectors: {
        // Each kline poller may ask for up to ~3,600 weight a minute, the tick pollers ~3,000, the
        // account and position pollers ~1,500 each, income ~9,000, the universe ~1,200: many times
        // the 640 paced to (the simulator's own speed on 600 symbols bounds some of them first).
        kline: { instances: 1, intervalMs: 50, intervals: ['1m', '5m'], fullEveryMs: 1000 },
        hotKline: { instances: 1, intervalMs: 50, intervals: ['1m'], top: 20 },
        tick: { instances: 1, maxPollsPerSecond: 8 },
        account: { instances: 1, intervalMs: 200, version: 'v3' },
        positionRisk: { instances: 1, intervalMs: 200, version: 'v3' },
        income: { instances: 1, intervalMs: 200 },
        universe: { instances: 1, intervalMs: 2_000 },
      },
    });
    rigs.push(rig);
    await rig.collector('universe');
    await eventually(
      () => rig.hub.health().symbols.active === 600,
      'the 600-symbol universe in the hub',
      30_000,
    );
    for (let i = 0; i < 3; i++) await rig.collector('kline', i);
    await rig.collector('hot-kline', 0);
    for (let i = 0; i < 2; i++) await rig.collector('tick', i);
    await rig.collector('account', 0);
    await rig.collector('position-risk', 0);
    await rig.collector('income', 0);
    const orders = startOrderTraffic(rig);
    cleanups.push(() => orders.stop());

    // Run until the budget has been full (klines held) and a minute boundary has served the held
    // requests, then a little past it.
    await eventually(
      () => {
        const g = groupOf(rig.hub.health());
        return g !== undefined && g.held.kline > 0 && g.lastRollover !== null;
      },
      'a minute boundary under contention',
      90_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    console.log('simulator', JSON.stringify(rig.sim.server.counters));
    console.log('host budget', JSON.stringify(groupOf(rig.hub.health())));

    // No request was refused by the exchange.
    expect(rig.sim.server.counters).toMatchObject({ rateLimited: 0, banned: 0 });
    const g = groupOf(rig.hub.health());
    if (g === undefined) throw new Error('no weight group');
    // The limit is 80 % of what exchangeInfo states, not the constant 1,920.
    expect(g.limit).toBe(PACED_LIMIT);
    expect(g.reserve).toBe(Math.floor(PACED_LIMIT * 0.05));
    // One budget for the host: every process leases from it.
    expect(g.members).toBeGreaterThanOrEqual(9);
    // What the hub granted stays within the paced limit; the exchange's count of the minute may
    // pass it only by orders going through the reserve once more (weight the exchange counted
    // that the hub never granted must not hold an order back), far inside the exchange's 800.
    const grantedTotal = (granted: Record<string, number>) =>
      Object.values(granted).reduce((a, b) => a + b, 0);
    expect(grantedTotal(g.granted)).toBeLessThanOrEqual(g.limit);
    expect(grantedTotal(g.previous?.granted ?? {})).toBeLessThanOrEqual(g.limit);
    expect(g.used).toBeLessThanOrEqual(g.limit + g.reserve);
    expect(g.previous?.used ?? 0).toBeLessThanOrEqual(g.limit + g.reserve);
    // Every kind was served, none starved.
    for (const kind of BUDGET_KINDS) expect(g.weight[kind], kind).toBeGreaterThan(0);
    // The minute was full: requests were held. Orders never waited (their reserve), account reads
    // at most one window; at the boundary the held requests were served best rank first.
    expect(g.held.kline).toBeGreaterThan(0);
    expect(g.maxWaitWindows.order).toBe(0);
    expect(g.maxWaitWindows.account).toBeLessThanOrEqual(1);
    const ranks = g.lastRollover?.served.map((s) => s.rank) ?? [];
    expect(ranks.length).toBeGreaterThan(1);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // The processes lease (no fallback once connected).
    const order = orders.link.rest.budget.stats();
    expect(order.mode).toBe('coordinated');
    expect(order.rateLimited + order.banned).toBe(0);

    // `tributary status` shows the host's use against its limit, by kind.
    const full = await readFullStatus({ hubUrl: rig.hub.url, key: rig.keys.viewer });
    const text = renderFleet(full);
    expect(text).toMatch(
      new RegExp(`\\n${GROUP}\\s+\\d+\\s+${PACED_LIMIT}\\s+\\d+%(\\s+\\d+){6}\\s+\\d+\\s+-`),
    );
    const reports = full.peers.filter((p) => p.role === 'collector').map((p) => p.report?.weight);
    expect(reports.length).toBeGreaterThanOrEqual(9);
  }, 150_000);
});
