// Tests of weight pacing: per-minute windows, header accounting, blocks and order limits on a virtual clock.
import { describe, expect, it } from 'vitest';
import { Logger, silentLogger } from '../log/logger.js';
import { limitsFromRateLimits, readUsageHeaders, type WeightLimits } from './rate-limits.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';
import { BudgetClosedError, WeightBudget } from './weight-budget.js';
import type {
  IpBlock,
  WeightCoordinator,
  WeightLeaseGrant,
  WeightLeaseRequest,
} from './weight-coordinator.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 5, 10, 0, 0) + 1_000; // one second into a UTC minute

function budget(limits: Partial<WeightLimits> = {}): { budget: WeightBudget; clock: VirtualScheduler } {
  const clock = new VirtualScheduler(START);
  const b = new WeightBudget(
    { perMinute: 10, ordersPer10s: null, ordersPerMinute: null, ...limits },
    { now: () => clock.now(), scheduler: clock, log: silentLogger(), boundarySlackMs: 100 },
  );
  return { budget: b, clock };
}

describe('WeightBudget', () => {
  it('sends a burst up to the budget at once and holds the rest for the next minute window', async () => {
    const { budget: b, clock } = budget();
    const minutes: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 13 }, async (_, i) => {
        const ticket = await b.acquire(1, 'kline');
        minutes.push(ticket.minute);
        order.push(i);
        b.settle(ticket, null);
      }),
    );
    expect(order).toEqual([...Array(13).keys()]); // one kind: first come, first served
    const first = Math.floor(START / MINUTE);
    expect(minutes).toEqual([...Array(10).fill(first), first + 1, first + 1, first + 1]);
    const nextWindow = (first + 1) * MINUTE;
    expect(clock.now()).toBeGreaterThanOrEqual(nextWindow);
    expect(clock.now()).toBeLessThan(nextWindow + 1_000);
    expect(b.stats().windowWaits).toBe(1);
    expect(b.stats().usedWeight).toBe(3);
  });

  it("raises its count to the exchange's X-MBX-USED-WEIGHT-1M (other processes on the IP)", async () => {
    const { budget: b, clock } = budget();
    const t = await b.acquire(1, 'kline');
    b.settle(t, { usedWeight1m: 9, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(9);
    await b.acquire(1, 'kline'); // 10: fits
    expect(clock.now()).toBe(START);
    await b.acquire(1, 'kline'); // 11: next window
    expect(clock.now()).toBeGreaterThanOrEqual(START - (START % MINUTE) + MINUTE);
  });

  it('never lowers its count from a header and ignores headers of requests sent in an earlier window', async () => {
    const { budget: b, clock } = budget();
    const early = await b.acquire(5, 'kline');
    b.settle(early, { usedWeight1m: 2, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(5);
    const late = await b.acquire(1, 'kline');
    clock.advance(MINUTE); // the response arrives in the next window
    b.settle(late, { usedWeight1m: 9, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(0);
  });

  it('lets a request heavier than the whole budget go alone in a fresh window', async () => {
    const { budget: b, clock } = budget();
    await b.acquire(25, 'kline');
    expect(clock.now()).toBe(START);
    await b.acquire(1, 'kline');
    expect(clock.now()).toBeGreaterThan(START);
  });

  it('admits nothing before a block ends (429 / 418)', async () => {
    const { budget: b, clock } = budget();
    b.blockUntil(START + 7_500, 'test');
    await b.acquire(0, 'kline');
    expect(clock.now()).toBe(START + 7_500);
  });

  it('paces orders to the 10-second order limit', async () => {
    const { budget: b, clock } = budget({ perMinute: 1000, ordersPer10s: 2 });
    await b.acquire(0, 'order', true);
    await b.acquire(0, 'order', true);
    expect(clock.now()).toBe(START);
    await b.acquire(0, 'order', true);
    expect(clock.now()).toBeGreaterThanOrEqual(START - (START % 10_000) + 10_000);
    await b.acquire(1, 'tick', false); // reads are not held by the order limit
  });

  it('lets cancels and reads pass an order waiting for the order count, not a block or the weight', async () => {
    const { budget: b, clock } = budget({ perMinute: 3, ordersPer10s: 1 });
    await b.acquire(0, 'order', true); // the 10 s order count is used up
    b.blockUntil(START + 1_000, 'test'); // so that every request below is queued before any is served
    const tenSeconds = Math.floor(START / 10_000);
    const minute = Math.floor(START / MINUTE);
    const sent: string[] = [];
    const send = async (name: string, weight: number, kind: 'order' | 'tick', isOrder: boolean) => {
      const t = await b.acquire(weight, kind, isOrder);
      sent.push(`${name}: ${t.minute - minute}m ${t.tenSeconds - tenSeconds}x10s`);
    };
    await Promise.all([
      send('order', 0, 'order', true),
      send('cancel', 1, 'order', false), // a cancel: an order's rank, counted as weight only
      send('read', 1, 'tick', false),
      send('second read', 1, 'tick', false),
      send('third read', 1, 'tick', false), // the minute's weight (3) is used up: the next minute
    ]);
    expect(sent).toEqual([
      'cancel: 0m 0x10s',
      'read: 0m 0x10s',
      'second read: 0m 0x10s',
      'order: 0m 1x10s',
      'third read: 1m 6x10s',
    ]);
    expect(b.stats().passedWaitingOrders).toBe(3);

    // A 429/418 block holds everything, cancels included.
    b.blockUntil(clock.now() + 5_000, 'test');
    const at = clock.now();
    await b.acquire(1, 'order', false);
    expect(clock.now()).toBe(at + 5_000);
  });

  it('reads the usage headers and rejects garbage', () => {
    expect(
      readUsageHeaders({
        'x-mbx-used-weight-1m': '17',
        'x-mbx-order-count-10s': '3',
        'x-mbx-order-count-1m': 'x',
      }),
    ).toEqual({ usedWeight1m: 17, orderCount10s: 3, orderCount1m: null });
  });

  it('derives limits from exchangeInfo rateLimits', () => {
    const limits = limitsFromRateLimits(
      [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
        { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
      ],
      0.8,
      { perMinute: 1, ordersPer10s: null, ordersPerMinute: null },
    );
    expect(limits).toEqual({ perMinute: 1920, ordersPer10s: 240, ordersPerMinute: 960 });
  });

  it('serves waiting requests by kind when a window opens: order, account, kline, tick, income, universe', async () => {
    const { budget: b } = budget({ perMinute: 3 });
    await b.acquire(3, 'kline'); // the window is full
    const served: string[] = [];
    const kinds = ['universe', 'kline', 'income', 'order', 'tick', 'account', 'kline'] as const;
    await Promise.all(
      kinds.map(async (kind) => {
        const ticket = await b.acquire(1, kind);
        served.push(`${kind}@${ticket.minute - Math.floor(START / MINUTE)}`);
      }),
    );
    // Three fit each window; the better kind goes first (each rank one better per window waited),
    // then the older request; the universe request, last by kind, still gets the third window.
    expect(served).toEqual([
      'order@1',
      'account@1',
      'kline@1',
      'kline@2',
      'tick@2',
      'income@2',
      'universe@3',
    ]);
  });
});

/** A coordinator that grants what the test tells it to (or fails), recording what was asked. */
class ScriptedCoordinator implements WeightCoordinator {
  readonly group = 'host-a';
  available = true;
  readonly asked: WeightLeaseRequest[] = [];
  readonly reported: IpBlock[] = [];
  answer: (request: WeightLeaseRequest) => Promise<WeightLeaseGrant> = (r) =>
    Promise.resolve({ minute: Math.floor(r.at / MINUTE) });
  readonly #listeners = new Set<(block: IpBlock) => void>();

  lease(request: WeightLeaseRequest): Promise<WeightLeaseGrant> {
    this.asked.push(request);
    return this.answer(request);
  }

  reportBlock(block: IpBlock): void {
    this.reported.push(block);
  }

  onBlock(listener: (block: IpBlock) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  push(block: IpBlock): void {
    for (const listener of this.#listeners) listener(block);
  }
}

function coordinatedBudget(perMinute = 100): { budget: WeightBudget; clock: VirtualScheduler } {
  const clock = new VirtualScheduler(START);
  const b = new WeightBudget(
    { perMinute, ordersPer10s: null, ordersPerMinute: null },
    {
      now: () => clock.now(),
      scheduler: clock,
      log: silentLogger(),
      boundarySlackMs: 100,
      coordinated: true,
      fallbackShare: 0.1,
      orderReserve: 0.05,
      coordinatorRetryMs: 5_000,
    },
  );
  return { budget: b, clock };
}

describe('WeightBudget with a coordinator', () => {
  it('leases every request with its kind, the limit, the reserve and the exchange-reported use', async () => {
    const { budget: b } = coordinatedBudget();
    const coordinator = new ScriptedCoordinator();
    b.attachCoordinator(coordinator);
    const first = await b.acquire(5, 'account');
    b.settle(first, { usedWeight1m: 40, orderCount10s: null, orderCount1m: null });
    await b.acquire(2, 'tick');
    await b.acquire(0, 'order', true); // no IP weight: nothing to lease
    expect(coordinator.asked.map((r) => [r.kind, r.weight, r.limit, r.reserve, r.used])).toEqual([
      ['account', 5, 100, 5, null],
      ['tick', 2, 100, 5, 40],
    ]);
    const stats = b.stats();
    expect(stats.mode).toBe('coordinated');
    expect(stats.group).toBe('host-a');
    expect(stats.leases).toBe(2);
    expect(stats.usedByKind).toMatchObject({ account: 5, tick: 2 });
  });

  it('starts a request granted for a later minute only once that minute has begun', async () => {
    const { budget: b, clock } = coordinatedBudget();
    const coordinator = new ScriptedCoordinator();
    coordinator.answer = (r) => Promise.resolve({ minute: Math.floor(r.at / MINUTE) + 1 });
    b.attachCoordinator(coordinator);
    const ticket = await b.acquire(3, 'kline');
    expect(ticket.minute).toBe(Math.floor(START / MINUTE) + 1);
    expect(clock.now()).toBeGreaterThanOrEqual((Math.floor(START / MINUTE) + 1) * MINUTE + 100);
  });

  it('falls back to its conservative share when the coordinator fails, counts it, and leases again later', async () => {
    const { budget: b, clock } = coordinatedBudget(100);
    const coordinator = new ScriptedCoordinator();
    coordinator.answer = () => Promise.reject(new Error('hub: disconnected'));
    b.attachCoordinator(coordinator);
    const tickets = [];
    for (let i = 0; i < 11; i++) tickets.push(await b.acquire(1, 'kline'));
    // 10 % of 100 per minute while the coordinator cannot be asked: the eleventh waits a window
    expect(tickets.slice(0, 10).every((t) => t.minute === Math.floor(START / MINUTE))).toBe(true);
    expect(tickets[10]?.minute).toBe(Math.floor(START / MINUTE) + 1);
    let stats = b.stats();
    expect(stats.mode).toBe('fallback');
    expect(stats.fallbacks).toBe(1);
    expect(stats.fallbackGrants).toBe(11);
    coordinator.answer = (r) => Promise.resolve({ minute: Math.floor(r.at / MINUTE) });
    clock.advance(5_000);
    await b.acquire(1, 'kline');
    stats = b.stats();
    expect(stats.mode).toBe('coordinated');
    expect(stats.leases).toBe(1);
  });

  it('paces to the fallback share while the coordinator is disconnected', async () => {
    const { budget: b } = coordinatedBudget(100);
    const coordinator = new ScriptedCoordinator();
    coordinator.available = false;
    b.attachCoordinator(coordinator);
    await b.acquire(10, 'kline');
    const next = await b.acquire(1, 'kline');
    expect(next.minute).toBe(Math.floor(START / MINUTE) + 1);
    expect(coordinator.asked).toHaveLength(0);
    expect(b.stats().mode).toBe('fallback');
  });

  it('says a coordinator not connected yet at info (every process starts so), and one lost after it granted leases as a warning', async () => {
    const lines: string[] = [];
    const clock = new VirtualScheduler(START);
    const b = new WeightBudget(
      { perMinute: 100, ordersPer10s: null, ordersPerMinute: null },
      {
        now: () => clock.now(),
        scheduler: clock,
        log: new Logger('t', { level: 'info', format: 'json', sink: (line) => lines.push(line) }),
        boundarySlackMs: 100,
        coordinated: true,
        fallbackShare: 0.1,
        coordinatorRetryMs: 5_000,
      },
    );
    const coordinator = new ScriptedCoordinator();
    coordinator.available = false;
    b.attachCoordinator(coordinator);
    await b.acquire(1, 'kline'); // before the process's hub connection is up
    coordinator.available = true;
    await b.acquire(1, 'kline'); // leased
    coordinator.available = false;
    await b.acquire(1, 'kline'); // the hub connection lost
    const levels = lines
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.msg === 'weight coordinator unavailable; pacing to the fallback share')
      .map((entry) => entry.level);
    expect(levels).toEqual(['info', 'warn']);
  });

  it('paces to the fallback share when it is meant to lease but has no coordinator', async () => {
    const { budget: b } = coordinatedBudget(100);
    await b.acquire(10, 'kline');
    expect((await b.acquire(1, 'kline')).minute).toBe(Math.floor(START / MINUTE) + 1);
    expect(b.stats()).toMatchObject({ mode: 'fallback', fallbackGrants: 2 });
  });

  it('fails the requests waiting for weight at once when closed, so a stopping process does not wait a window', async () => {
    const { budget: b } = coordinatedBudget();
    const coordinator = new ScriptedCoordinator();
    coordinator.answer = () => new Promise(() => {}); // held at the coordinator
    b.attachCoordinator(coordinator);
    const leasing = b.acquire(1, 'kline');
    await Promise.resolve();
    b.close();
    await expect(leasing).rejects.toBeInstanceOf(BudgetClosedError);
    await expect(b.acquire(1, 'kline')).rejects.toBeInstanceOf(BudgetClosedError);
  });

  it("shares its own IP blocks, not the account's order-count blocks, and obeys the IP's", async () => {
    const { budget: b, clock } = coordinatedBudget();
    const coordinator = new ScriptedCoordinator();
    b.attachCoordinator(coordinator);
    b.blockUntil(START + 1_000, '418 on GET /fapi/v1/klines', 'banned');
    b.blockUntil(START + 2_000, '429 on POST /fapi/v1/order', 'rate-limited', false);
    expect(coordinator.reported).toEqual([
      { until: START + 1_000, kind: 'banned', reason: '418 on GET /fapi/v1/klines' },
    ]);
    coordinator.push({ until: START + 30_000, kind: 'banned', reason: 'another process' });
    await b.acquire(1, 'account');
    expect(clock.now()).toBeGreaterThanOrEqual(START + 30_000);
    expect(b.stats()).toMatchObject({ banned: 1, rateLimited: 1, sharedBlocks: 1 });
  });
});
