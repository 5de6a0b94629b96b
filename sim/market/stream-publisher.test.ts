import { describe, expect, it } from 'vitest';
import { FAST_TICK_MS, FastTickSchedule } from './stream-publisher.js';

const CADENCES = [50, 100, 250, 500, 1_000];

/** The clock times at which `everyMs` was due, for ticks 1..count arriving at `clockOf(tick)`. */
function dueTimes(everyMs: number, count: number, clockOf: (tick: number) => number): number[] {
  const schedule = new FastTickSchedule();
  const times: number[] = [];
  for (let tick = 1; tick <= count; tick++) {
    const now = clockOf(tick);
    if (schedule.advance(tick, now)(everyMs)) times.push(now);
  }
  return times;
}

describe('FastTickSchedule', () => {
  it('is due every everyMs / 50 ticks while the timer keeps time', () => {
    const start = 1_767_225_600_000;
    for (const everyMs of CADENCES) {
      const schedule = new FastTickSchedule();
      for (let tick = 1; tick <= 200; tick++) {
        const due = schedule.advance(tick, start + tick * FAST_TICK_MS + 3)(everyMs);
        expect(due, `${everyMs} ms at tick ${tick}`).toBe((tick * FAST_TICK_MS) % everyMs === 0);
      }
    }
  });

  it('counts ticks when the clock does not move (a test stepping the market)', () => {
    const schedule = new FastTickSchedule();
    const due = [];
    for (let tick = 1; tick <= 20; tick++) due.push(schedule.advance(tick, 5_000)(500));
    expect(due.map((d, i) => (d ? i + 1 : 0)).filter((t) => t > 0)).toEqual([10, 20]);
  });

  it('follows the clock when the timer runs late: no 500 ms stream waits for ten late ticks', () => {
    // A loaded process: each 50 ms tick comes 96 ms after the previous one.
    const times = dueTimes(500, 200, (tick) => 1_000_000 + tick * 96);
    expect(times.length).toBeGreaterThan(35);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(500 - 96);
      expect(gap).toBeLessThanOrEqual(500 + 96);
    }
    // Tick counting alone would have waited ten ticks, 960 ms, each time.
  });

  it('makes a cadence due once per crossing, after a clock jump too', () => {
    const schedule = new FastTickSchedule();
    expect(schedule.advance(1, 0)(500)).toBe(false);
    // The clock jumps 7 s: every cadence is due on the next tick, once.
    const next = schedule.advance(2, 7_000);
    expect(CADENCES.map((c) => next(c))).toEqual(CADENCES.map(() => true));
    const after = schedule.advance(3, 7_000);
    expect(CADENCES.map((c) => after(c))).toEqual(CADENCES.map(() => false));
    // The clock going back never makes anything due again.
    expect(schedule.advance(4, 100)(50)).toBe(false);
  });

  it('starts at whatever tick it is first given, due for what tick counting calls due on it', () => {
    const schedule = new FastTickSchedule();
    const due = schedule.advance(7, 42_000);
    expect(CADENCES.filter((c) => due(c))).toEqual([50]);
    expect(schedule.advance(8, 42_050)(100)).toBe(true);
    expect(schedule.advance(10, 42_150)(500)).toBe(true);
  });
});
