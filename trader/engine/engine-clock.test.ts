// The wall clock's tasks run at or after their time, even when Node's timer fires early on the wall clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallClock } from './engine-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WallClock', () => {
  it('waits for the rest when its timer fires before the task is due on the wall clock', async () => {
    // The wall clock as the test sets it: a timer that fires while it still reads before `at`
    // is what Node does when the loop's cached time lags Date.now().
    let wall = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const clock = new WallClock();
    const ran: number[] = [];
    clock.schedule(wall + 20, () => ran.push(Date.now()));
    await sleep(60); // the 20 ms timer fired; the wall clock still reads 1,000,010
    wall += 10;
    await sleep(60); // fired again (10 ms left): still not due
    expect(ran).toEqual([]);
    wall += 10;
    await sleep(60);
    expect(ran).toEqual([1_000_020]);
  });

  it('runs a task whose time has passed at once, and cancels a task while it waits again', async () => {
    let wall = 5_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const clock = new WallClock();
    const ran: string[] = [];
    clock.schedule(wall - 1, () => ran.push('past'));
    const waiting = clock.schedule(wall + 20, () => ran.push('cancelled'));
    await sleep(60); // both timers fired: 'past' ran, the other is armed again
    expect(ran).toEqual(['past']);
    waiting.cancel();
    wall += 100;
    await sleep(60);
    expect(ran).toEqual(['past']);
  });

  it('runs a task further ahead than one timer holds at its time, not before', async () => {
    vi.useFakeTimers();
    try {
      const clock = new WallClock();
      const days30 = 30 * 24 * 3_600_000;
      const ran: number[] = [];
      const at = Date.now() + days30;
      clock.schedule(at, () => ran.push(Date.now()));
      await vi.advanceTimersByTimeAsync(days30 - 1);
      expect(ran).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(ran).toEqual([at]);
    } finally {
      vi.useRealTimers();
    }
  });
});
