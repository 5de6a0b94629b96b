import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../ts/exchange/testing/virtual-scheduler.js';
import { WeightBudget } from '../../ts/exchange/weight-budget.js';
import { silentLogger } from '../../ts/log/logger.js';
import { BudgetOrderRate, LocalOrderRate, type OrderRateMeter } from './order-rate.js';

describe('order-rate meters', () => {
  it("say orders are held while the exchange client's budget makes one wait for the next window", async () => {
    const clock = new VirtualScheduler(Date.UTC(2026, 0, 5, 10, 0, 1));
    const budget = new WeightBudget(
      { perMinute: 1000, ordersPer10s: 2, ordersPerMinute: null },
      { now: () => clock.now(), scheduler: clock, log: silentLogger(), boundarySlackMs: 100 },
    );
    const meter = new BudgetOrderRate(budget);
    await budget.acquire(0, 'order', true);
    await budget.acquire(0, 'order', true);
    expect(meter.holding()).toBe(false);
    const third = budget.acquire(0, 'order', true);
    // Waiting for the next 10 s window: queued, not refused.
    expect(meter.holding()).toBe(true);
    await third;
    expect(meter.holding()).toBe(false);
  });

  it('a local meter only counts: nothing ever waits in it', () => {
    const meter: OrderRateMeter = new LocalOrderRate({ ordersPer10s: 1, ordersPerMinute: null });
    meter.record(0);
    meter.record(0);
    expect(meter.holding).toBeUndefined();
  });
});
