// Problems reported once past their grace and once when they end; the stale-data watch built on it.
import { describe, expect, it } from 'vitest';
import type { AlertInput } from './alert.js';
import { ProblemTracker } from './problem-tracker.js';
import { StaleWatch } from './stale-watch.js';

describe('ProblemTracker', () => {
  it('reports a problem once it lasted past the grace, its end once, and ignores a blip', () => {
    const tracker = new ProblemTracker<string>(1000);
    const now = (t: number, problems: Record<string, string>) =>
      tracker.update(t, new Map(Object.entries(problems)));
    expect(now(0, { a: 'down' })).toEqual({ started: [], ended: [] });
    expect(now(999, { a: 'down', b: 'blip' })).toEqual({ started: [], ended: [] });
    expect(now(1000, { a: 'still down' })).toEqual({
      started: [{ key: 'a', problem: 'still down', since: 0 }],
      ended: [],
    });
    expect(tracker.reported()).toEqual(['a']);
    expect(now(5000, { a: 'still down' })).toEqual({ started: [], ended: [] });
    expect(now(6000, {})).toEqual({ started: [], ended: [{ key: 'a', problem: 'still down', since: 0 }] });
    expect(now(7000, {})).toEqual({ started: [], ended: [] });
    // b cleared inside its grace: never reported, never ended.
    expect(tracker.reported()).toEqual([]);
  });
});

describe('StaleWatch', () => {
  it('raises data-stale after the grace and data-fresh when it recovers, once each', () => {
    let t = 0;
    let reason: string | undefined;
    const raised: AlertInput[] = [];
    const watch = new StaleWatch({
      where: 'trader',
      what: 'the book of trader-0',
      problem: () => reason,
      graceMs: 60_000,
      checkMs: 5000,
      alerts: { raise: (a) => raised.push(a) },
      now: () => t,
    });
    watch.check();
    reason = 'hub connection reconnecting';
    for (t = 5000; t < 65_000; t += 5000) watch.check();
    expect(raised).toEqual([]);
    watch.check(); // t = 65 s: stale for 60 s
    for (t = 70_000; t < 100_000; t += 5000) watch.check();
    reason = undefined;
    watch.check();
    watch.check();
    expect(raised).toEqual([
      {
        severity: 'warning',
        source: 'trader.data-stale',
        title: 'Data is stale',
        details: { what: 'the book of trader-0', ageSeconds: 60, reason: 'hub connection reconnecting' },
      },
      {
        severity: 'info',
        source: 'trader.data-fresh',
        title: 'Data is fresh again',
        details: { what: 'the book of trader-0', ageSeconds: 95 },
      },
    ]);
  });
});
