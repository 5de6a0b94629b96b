// The rate-limit refresher on exchangeInfo bodies: real limits are paced to, a limit below 1 is refused and the budget keeps what it has.
import { describe, expect, it } from 'vitest';
import { Logger } from '../log/logger.js';
import { RateLimitRefresher } from './rate-limit-refresher.js';
import type { WeightLimits } from './rate-limits.js';
import type { UsdmApi } from './usdm-api.js';

const KNOWN: WeightLimits = { perMinute: 1920, ordersPer10s: 240, ordersPerMinute: 960 };

/** An exchange answering exchangeInfo with `rateLimits`, over a budget holding `KNOWN`, and the log lines. */
function rig(rateLimits: unknown[]) {
  const budget = {
    limits: KNOWN,
    setLimits(next: WeightLimits) {
      budget.limits = next;
    },
  };
  const api = {
    rest: { budget, syncTime: async () => 0 },
    exchangeInfo: async () => ({ body: Buffer.from(JSON.stringify({ rateLimits })) }),
  } as unknown as UsdmApi;
  const lines: Array<Record<string, unknown>> = [];
  const log = new Logger('limits', {
    level: 'debug',
    format: 'json',
    sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const refresher = new RateLimitRefresher(api, { share: 0.8, everyMs: 3_600_000, log });
  return { refresher, budget, lines };
}

const entry = (rateLimitType: string, interval: string, intervalNum: number, limit: number) => ({
  rateLimitType,
  interval,
  intervalNum,
  limit,
});

describe('RateLimitRefresher', () => {
  it('paces to the share of the limits exchangeInfo states', async () => {
    const { refresher, budget } = rig([entry('REQUEST_WEIGHT', 'MINUTE', 1, 1200)]);
    expect(await refresher.refresh()).toBe(true);
    expect(budget.limits).toEqual({ ...KNOWN, perMinute: 960 });
  });

  it('refuses a limit of 0, a negative one or a window of 0 instead of pacing to one request a minute', async () => {
    for (const [bad, where] of [
      [entry('REQUEST_WEIGHT', 'MINUTE', 1, 0), 'limit'],
      [entry('REQUEST_WEIGHT', 'MINUTE', 1, -2400), 'limit'],
      [entry('ORDERS', 'SECOND', 0, 300), 'intervalNum'],
    ] as const) {
      const { refresher, budget, lines } = rig([entry('ORDERS', 'MINUTE', 1, 1200), bad]);
      expect(await refresher.refresh()).toBe(false);
      expect(budget.limits).toBe(KNOWN);
      expect(refresher.failures).toBe(1);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'exchangeInfo rateLimits not read; the budget keeps its limits',
          perMinute: KNOWN.perMinute,
          error: `$.rateLimits[1].${where}: expected a positive integer, got ${where === 'limit' ? bad.limit : bad.intervalNum}`,
        }),
      ]);
    }
  });

  it('refuses a limit that is not an integer the same way', async () => {
    const { refresher, budget, lines } = rig([entry('REQUEST_WEIGHT', 'MINUTE', 1, 2400.5)]);
    expect(await refresher.refresh()).toBe(false);
    expect(budget.limits).toBe(KNOWN);
    expect(lines[0]?.error).toMatch(/^\$\.rateLimits\[0\]\.limit: expected an integer/);
  });
});
