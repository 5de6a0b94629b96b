// Tests of the server clock: midpoint offset and coalesced syncs.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import { ServerClock, type TimeSample } from './server-clock.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';

describe('ServerClock', () => {
  it('uses the round-trip midpoint and shares one request among concurrent syncs', async () => {
    const local = new VirtualScheduler(1_000_000);
    let requests = 0;
    const clock = new ServerClock(
      local,
      async (): Promise<TimeSample> => {
        requests += 1;
        await Promise.resolve();
        return { sentAt: 1_000_000, serverTime: 1_000_550, receivedAt: 1_000_100 };
      },
      silentLogger(),
    );
    expect(clock.isStale(60_000)).toBe(true);
    await Promise.all([clock.sync(), clock.sync(), clock.sync()]);
    expect(requests).toBe(1);
    expect(clock.offsetMs).toBe(500);
    expect(clock.now()).toBe(1_000_500);
    expect(clock.isStale(60_000)).toBe(false);
    local.advance(61_000);
    expect(clock.isStale(60_000)).toBe(true);
  });
});
