// runAt: a task runs at or after its wall-clock time, even when Node's timer fires early or the time is weeks ahead.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAt } from './wall-timer.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runAt', () => {
  it('waits for the rest when its timer fires before the task is due on the wall clock', async () => {
    // The wall clock as the test sets it: a timer that fires while it still reads before `at`
    // is what Node does when the loop's cached time lags Date.now().
    let wall = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const ran: number[] = [];
    runAt(wall + 20, () => ran.push(Date.now()));
    await sleep(60); // the 20 ms timer fired; the wall clock still reads 1,000,000
    wall += 10;
    await sleep(60); // fired again (20 ms left at arming, 10 now): still not due
    expect(ran).toEqual([]);
    wall += 10;
    await sleep(60);
    expect(ran).toEqual([1_000_020]);
  });

  it('runs a task whose time has passed at once, and cancels a task while it waits again', async () => {
    let wall = 5_000;
    vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const ran: string[] = [];
    runAt(wall - 1, () => ran.push('past'));
    const cancel = runAt(wall + 20, () => ran.push('cancelled'));
    await sleep(60); // both timers fired: 'past' ran, the other is armed again
    expect(ran).toEqual(['past']);
    cancel();
    cancel();
    wall += 100;
    await sleep(60);
    expect(ran).toEqual(['past']);
  });

  it('runs a task further ahead than one timer holds (24.8 days) at its time, not before', async () => {
    vi.useFakeTimers();
    const days30 = 30 * 24 * 3_600_000;
    const ran: number[] = [];
    const at = Date.now() + days30;
    runAt(at, () => ran.push(Date.now()));
    await vi.advanceTimersByTimeAsync(days30 - 1);
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual([at]);
  });
});
