// A task at a wall-clock time: run at or after it, however early Node's timer fires and however far ahead it is.

/** The longest delay one `setTimeout` holds; Node fires a longer one after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Stops a task set with {@link runAt} that has not run yet; calling it again does nothing. */
export type CancelTimer = () => void;

/**
 * Runs `task` once `Date.now()` reaches `at`. Node counts a timer's delay from the event loop's
 * cached time, which lags `Date.now()` by however long the loop's current turn has run, so a
 * timer can fire before `at`; and a delay beyond 24.8 days fires after 1 ms. Both are waited out
 * with further timers. With `unref` the waiting does not keep the process alive.
 */
export function runAt(at: number, task: () => void, options: { unref?: boolean } = {}): CancelTimer {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    timer = setTimeout(
      () => {
        if (Date.now() < at) arm();
        else task();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
    );
    if (options.unref === true) timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
