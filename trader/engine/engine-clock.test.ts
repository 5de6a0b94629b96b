// The wall clock's tasks run at or after their time (through runAt), and cancel stops them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallClock } from './engine-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WallClock', () => {
  it('runs a task only once the wall clock reaches its time, even when its timer fires early, and cancels one', async () => {
    // A timer that fires while the wall clock still reads before `at` is what Node does when the
    // loop's cached time lags Date.now() (ts/process/wall-timer.ts).
    let wall = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const clock = new WallClock();
    const ran: string[] = [];
    clock.schedule(wall + 20, () => ran.push('due'));
    const cancelled = clock.schedule(wall + 20, () => ran.push('cancelled'));
    await sleep(60); // both timers fired; the wall clock still reads 1,000,000
    expect(ran).toEqual([]);
    cancelled.cancel();
    wall += 20;
    await sleep(60);
    expect(ran).toEqual(['due']);
  });
});
