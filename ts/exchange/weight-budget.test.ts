// Tests of weight pacing: per-minute windows, header accounting, blocks and order limits on a virtual clock.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';
import { limitsFromRateLimits, readUsageHeaders, WeightBudget, type WeightLimits } from './weight-budget.js';

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
    const admittedAt: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 13 }, async (_, i) => {
        const ticket = await b.acquire(1);
        admittedAt.push(clock.now());
        order.push(i);
        b.settle(ticket, null);
      }),
    );
    expect(order).toEqual([...Array(13).keys()]); // first come, first served
    expect(admittedAt.slice(0, 10).every((t) => t === START)).toBe(true);
    const nextWindow = START - (START % MINUTE) + MINUTE;
    for (const t of admittedAt.slice(10)) {
      expect(t).toBeGreaterThanOrEqual(nextWindow);
      expect(t).toBeLessThan(nextWindow + 1_000);
    }
    expect(b.stats().windowWaits).toBe(1);
    expect(b.stats().usedWeight).toBe(3);
  });

  it("raises its count to the exchange's X-MBX-USED-WEIGHT-1M (other processes on the IP)", async () => {
    const { budget: b, clock } = budget();
    const t = await b.acquire(1);
    b.settle(t, { usedWeight1m: 9, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(9);
    await b.acquire(1); // 10: fits
    expect(clock.now()).toBe(START);
    await b.acquire(1); // 11: next window
    expect(clock.now()).toBeGreaterThanOrEqual(START - (START % MINUTE) + MINUTE);
  });

  it('never lowers its count from a header and ignores headers of requests sent in an earlier window', async () => {
    const { budget: b, clock } = budget();
    const early = await b.acquire(5);
    b.settle(early, { usedWeight1m: 2, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(5);
    const late = await b.acquire(1);
    clock.advance(MINUTE); // the response arrives in the next window
    b.settle(late, { usedWeight1m: 9, orderCount10s: null, orderCount1m: null });
    expect(b.stats().usedWeight).toBe(0);
  });

  it('lets a request heavier than the whole budget go alone in a fresh window', async () => {
    const { budget: b, clock } = budget();
    await b.acquire(25);
    expect(clock.now()).toBe(START);
    await b.acquire(1);
    expect(clock.now()).toBeGreaterThan(START);
  });

  it('admits nothing before a block ends (429 / 418)', async () => {
    const { budget: b, clock } = budget();
    b.blockUntil(START + 7_500, 'test');
    await b.acquire(0);
    expect(clock.now()).toBe(START + 7_500);
  });

  it('paces orders to the 10-second order limit', async () => {
    const { budget: b, clock } = budget({ perMinute: 1000, ordersPer10s: 2 });
    await b.acquire(0, true);
    await b.acquire(0, true);
    expect(clock.now()).toBe(START);
    await b.acquire(0, true);
    expect(clock.now()).toBeGreaterThanOrEqual(START - (START % 10_000) + 10_000);
    await b.acquire(1, false); // reads are not held by the order limit
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
});
