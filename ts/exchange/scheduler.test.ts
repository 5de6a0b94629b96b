// The real scheduler's sleep: waits as long as asked, also past what one timer holds.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemScheduler } from './scheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('systemScheduler', () => {
  it('sleeps past the 24.8 days one timer holds (Node would fire such a timer after 1 ms)', async () => {
    vi.useFakeTimers();
    const days30 = 30 * 24 * 3_600_000;
    let done = false;
    void systemScheduler.sleep(days30).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(days30 - 2_000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(true);
  });

  it('resolves at once for nothing to wait', async () => {
    await expect(systemScheduler.sleep(0)).resolves.toBeUndefined();
    await expect(systemScheduler.sleep(-5)).resolves.toBeUndefined();
  });
});
