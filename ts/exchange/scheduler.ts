// The time source and sleep the exchange client waits with; tests pass a virtual one to run fast.

/** Local wall-clock time and waiting. */
export interface Scheduler {
  /** Local Unix ms. */
  now(): number;
  /** Resolves after `ms` (immediately for `ms <= 0`). */
  sleep(ms: number): Promise<void>;
}

/** The longest delay one `setTimeout` holds; Node fires a longer one after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves after `ms`, in steps a timer can hold. */
function sleepFor(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const step = (left: number): void => {
      if (left <= MAX_TIMER_MS) setTimeout(resolve, left);
      else setTimeout(() => step(left - MAX_TIMER_MS), MAX_TIMER_MS);
    };
    step(ms);
  });
}

/** The real clock and `setTimeout`. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  sleep: sleepFor,
};
