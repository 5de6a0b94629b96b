// The time source and sleep the exchange client waits with; tests pass a virtual one to run fast.

/** Local wall-clock time and waiting. */
export interface Scheduler {
  /** Local Unix ms. */
  now(): number;
  /** Resolves after `ms` (immediately for `ms <= 0`). */
  sleep(ms: number): Promise<void>;
}

/** The real clock and `setTimeout`. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  sleep: (ms) => (ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))),
};
