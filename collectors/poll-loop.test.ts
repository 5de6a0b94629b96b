import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../ts/exchange/exchange-errors.js';
import { Logger } from '../ts/log/logger.js';
import { PollLoop } from './poll-loop.js';

function logger(lines: string[]): Logger {
  return new Logger('poll', { format: 'json', sink: (l) => lines.push(l) });
}

describe('PollLoop', () => {
  it('polls at its pace, never overlapping, until stopped', async () => {
    const starts: number[] = [];
    let running = 0;
    let overlapped = false;
    const loop = new PollLoop({ intervalMs: 20, logger: logger([]) }, async () => {
      running += 1;
      if (running > 1) overlapped = true;
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 130));
    await loop.stop();
    const polls = loop.counters.polls;
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(overlapped).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(loop.counters.polls).toBe(polls);
  });

  it('counts and logs failures and backs off, doubling, within its bound', async () => {
    const lines: string[] = [];
    const times: number[] = [];
    const loop = new PollLoop({ intervalMs: 10, maxBackoffMs: 80, logger: logger(lines) }, async () => {
      times.push(Date.now());
      throw new Error('exchange unreachable');
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 400));
    await loop.stop();
    expect(loop.counters.failures).toBe(times.length);
    expect(loop.counters.polls).toBe(0);
    expect(loop.counters.lastError).toBe('Error: exchange unreachable');
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; consecutive: number; retryInMs: number });
    expect(logged.every((l) => l.msg === 'poll failed')).toBe(true);
    expect(logged.at(-1)?.consecutive).toBe(times.length);
    // Waits of 20, 40, 80, 80, ... ms: doubling from the interval, then held at the bound.
    expect(logged.map((l) => l.retryInMs)).toEqual(logged.map((_, i) => Math.min(80, 10 * 2 ** (i + 1))));
    expect(times.length).toBeGreaterThanOrEqual(3);
  });

  it('waits out an exchange rate limit for as long as the exchange said', async () => {
    const times: number[] = [];
    const loop = new PollLoop({ intervalMs: 5, maxBackoffMs: 20, logger: logger([]) }, async () => {
      times.push(Date.now());
      if (times.length === 1) throw new RateLimitedError(-1003, 'Too many requests', 'GET', '/x', 150, 0);
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 250));
    await loop.stop();
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(145);
    expect(loop.counters.consecutiveFailures).toBe(0);
  });
});
