// The time source and sleep the exchange client waits with; tests pass a virtual one to run fast.
import { runAt } from '../process/wall-timer.js';

/** Local wall-clock time and waiting. */
export interface Scheduler {
  /** Local Unix ms. */
  now(): number;
  /** Resolves after `ms` (immediately for `ms <= 0`). */
  sleep(ms: number): Promise<void>;
}

/** The real clock; a sleep waits with {@link runAt} (at least `ms` on the wall clock, however long). */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  sleep: (ms) => (ms <= 0 ? Promise.resolve() : new Promise((resolve) => runAt(Date.now() + ms, resolve))),
};
