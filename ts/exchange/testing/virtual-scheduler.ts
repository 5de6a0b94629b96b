// A virtual clock for tests of the exchange client: sleeps advance time instantly.
import type { Scheduler } from '../scheduler.js';

/**
 * A virtual clock: `sleep` advances time instantly, so waits for the next minute window or a
 * Retry-After take no real time. Records every sleep for assertions.
 */
export class VirtualScheduler implements Scheduler {
  #now: number;
  readonly sleeps: number[] = [];

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward (e.g. to simulate the time a request takes). */
  advance(ms: number): void {
    this.#now += Math.max(0, ms);
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.advance(ms);
    // yield so that other waiters interleave as they would with real timers
    await Promise.resolve();
  }
}
