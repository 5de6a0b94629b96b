// Tests of the REST limiters: fixed minute buckets, 429 then 418, order windows.
import { describe, expect, it } from 'vitest';
import { IpWeightLimiter, OrderRateLimiter } from './rate-limiters.js';
import { resolveLimits } from './server-limits.js';

const MINUTE = 60_000;
const T0 = 1_700_000_080_000; // 40 s into a minute

describe('IpWeightLimiter', () => {
  it('counts weight per IP in fixed minutes and resets at the boundary', () => {
    const limiter = new IpWeightLimiter(resolveLimits({ requestWeightPerMinute: 10 }));
    expect(limiter.charge('a', 6, T0)).toEqual({ kind: 'ok', used: 6 });
    expect(limiter.charge('b', 6, T0)).toEqual({ kind: 'ok', used: 6 });
    expect(limiter.charge('a', 6, T0 + 1)).toEqual({ kind: 'limited', used: 12, retryAfterMs: 19_999 });
    expect(limiter.used('a', T0 + 1)).toBe(12);
    expect(limiter.charge('a', 1, T0 + 20_000)).toEqual({ kind: 'ok', used: 1 });
    limiter.prune(T0 + 2 * MINUTE);
    expect(limiter.used('a', T0 + 20_000)).toBe(0);
  });

  it('bans an IP that keeps sending while limited, until the ban ends', () => {
    const limiter = new IpWeightLimiter(
      resolveLimits({ requestWeightPerMinute: 1, requestsWhileLimitedBeforeBan: 1, banDurationMs: 90_000 }),
    );
    expect(limiter.charge('a', 1, T0).kind).toBe('ok');
    expect(limiter.charge('a', 1, T0).kind).toBe('limited');
    expect(limiter.charge('a', 1, T0)).toMatchObject({ kind: 'banned', untilMs: T0 + 90_000 });
    expect(limiter.bannedUntil('a', T0 + 89_999)).toBe(T0 + 90_000);
    expect(limiter.charge('a', 1, T0 + 60_000).kind).toBe('banned');
    expect(limiter.bannedUntil('a', T0 + 90_000)).toBeUndefined();
    expect(limiter.charge('a', 1, T0 + 90_000).kind).toBe('ok');
  });
});

describe('OrderRateLimiter', () => {
  it('limits per 10 s and per minute, per account', () => {
    const limiter = new OrderRateLimiter(resolveLimits({ ordersPer10s: 2, ordersPerMinute: 3 }));
    expect(limiter.charge('x', T0)).toEqual({ count10s: 1, count1m: 1 });
    expect(limiter.charge('x', T0)).toEqual({ count10s: 2, count1m: 2 });
    expect(limiter.charge('x', T0).exceeded).toEqual({ limit: 2, per: '10 SECOND' });
    expect(limiter.charge('y', T0).exceeded).toBeUndefined();
    expect(limiter.charge('x', T0 + 10_000)).toMatchObject({
      count10s: 1,
      exceeded: { limit: 3, per: '1 MINUTE' },
    });
    expect(limiter.charge('x', T0 + 20_000).exceeded).toBeUndefined();
  });
});

describe('resolveLimits', () => {
  it('refuses unknown and non-positive limits naming them', () => {
    expect(() => resolveLimits({ ordersPer10s: 0 })).toThrow('limits.ordersPer10s');
    expect(() => resolveLimits({ nope: 1 } as never)).toThrow('limits.nope');
  });
});
