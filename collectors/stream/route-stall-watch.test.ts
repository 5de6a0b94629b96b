// RouteStallWatch on a fake clock: when a silent route is replaced, when again, and when not.
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../../ts/log/testing/recording-logger.js';
import { RouteStallWatch } from './route-stall-watch.js';

const STALL_MS = 30_000;

/** A watched route of 3 connections on a fake clock, its warn/info lines and the reconnects asked for. */
function rig(stallMs = STALL_MS) {
  let now = 1_000_000;
  const reconnects: { at: number; reason: string }[] = [];
  const { logger, lines } = recordingLogger();
  const watch = new RouteStallWatch(
    {
      reconnectAll: (reason) => {
        reconnects.push({ at: now, reason });
        return 3;
      },
    },
    logger,
    { stallMs, route: 'public', because: 'while the market route delivers', now: () => now },
  );
  return {
    watch,
    reconnects,
    lines,
    now: () => now,
    /** Advances the clock by `ms` in 250 ms ticks, checking each tick; the route delivers each tick when `delivering`. */
    run(ms: number, { delivering = false, evidence = true } = {}): boolean[] {
      const stalled: boolean[] = [];
      for (let t = 0; t < ms; t += 250) {
        now += 250;
        if (delivering) watch.delivered(now);
        stalled.push(watch.check(evidence));
      }
      return stalled;
    },
  };
}

describe('RouteStallWatch', () => {
  it('a route silent for stallMs with the evidence on is replaced whole: warned once, counted, stalled until a frame', () => {
    const r = rig();
    r.run(5_000, { delivering: true });
    const stalled = r.run(STALL_MS - 250);
    expect(stalled.every((s) => !s)).toBe(true);
    expect(r.reconnects).toEqual([]);
    r.run(250);
    expect(r.reconnects).toEqual([{ at: r.now(), reason: `public stream silent for ${STALL_MS} ms` }]);
    expect(r.watch.counters).toEqual({ stalls: 1, reconnects: 1 });
    expect(r.watch.stalled).toBe(true);
    const warnings = r.lines.filter((l) => l.level === 'warn');
    expect(warnings.map((l) => l.msg)).toEqual([
      'public stream silent while the market route delivers; reconnecting',
    ]);
    expect(warnings[0]?.fields).toMatchObject({
      silentMs: STALL_MS,
      connections: 3,
      attempt: 1,
      stallMs: STALL_MS,
    });

    // A frame ends the episode (logged); the next silence is a new one.
    r.run(250, { delivering: true });
    expect(r.watch.stalled).toBe(false);
    expect(r.lines.at(-1)).toMatchObject({
      level: 'info',
      msg: 'public stream delivering again after a stall',
    });
    r.run(STALL_MS);
    expect(r.watch.counters).toEqual({ stalls: 2, reconnects: 2 });
  });

  it('still silent: replaced again after twice the previous wait, each logged, at most every maxRetryMs', () => {
    const r = rig(10_000);
    r.run(1_000, { delivering: true });
    r.run(10_000);
    const first = r.now();
    r.run(20_000);
    r.run(40_000);
    r.run(80_000);
    r.run(160_000);
    r.run(300_000);
    r.run(300_000);
    expect(r.reconnects.map((c) => c.at - first)).toEqual([
      0, 20_000, 60_000, 140_000, 300_000, 600_000, 900_000,
    ]);
    expect(r.watch.counters).toEqual({ stalls: 1, reconnects: 7 });
    const warnings = r.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings[0]).toBe('public stream silent while the market route delivers; reconnecting');
    expect(warnings.slice(1)).toEqual(Array(6).fill('public stream still silent; reconnecting again'));
  });

  it('without the evidence (the exchange not shown pushing) silence is not a stall', () => {
    const r = rig();
    r.run(1_000, { delivering: true });
    const stalled = r.run(5 * STALL_MS, { evidence: false });
    expect(stalled.some((s) => s)).toBe(false);
    expect(r.reconnects).toEqual([]);
    // The evidence back, the silence so far counts.
    r.run(250);
    expect(r.reconnects.length).toBe(1);
  });

  it('a route that never delivered proves nothing; stallMs 0 turns the watch off', () => {
    const never = rig();
    never.run(5 * STALL_MS);
    expect(never.reconnects).toEqual([]);
    expect(never.watch.silentMs()).toBe(0);

    const off = rig(0);
    off.run(1_000, { delivering: true });
    off.run(5 * STALL_MS);
    expect(off.reconnects).toEqual([]);
    expect(off.watch.counters).toEqual({ stalls: 0, reconnects: 0 });
  });

  it('a route subscribed and never delivering is judged from the subscription; a later subscription does not move it', () => {
    const r = rig();
    r.watch.expectFrom(r.now());
    r.run(STALL_MS / 2);
    r.watch.expectFrom(r.now());
    // The subscription is no frame: the route's last frame stays unknown, its silence counts.
    expect(r.watch.lastFrameAt).toBeUndefined();
    expect(r.watch.silentMs()).toBe(STALL_MS / 2);
    r.run(STALL_MS / 2);
    expect(r.reconnects).toEqual([{ at: r.now(), reason: `public stream silent for ${STALL_MS} ms` }]);
  });

  it('refuses a stallMs that is not a non-negative integer', () => {
    expect(() => rig(-1)).toThrow(/public route stallMs must be a non-negative integer, got -1/);
    expect(() => rig(1.5)).toThrow(RangeError);
  });
});
