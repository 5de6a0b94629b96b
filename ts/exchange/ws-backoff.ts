// Jittered exponential backoff with a bounded delay and a bounded number of attempts.

/** Settings of a reconnect backoff. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 250). */
  initialDelayMs?: number;
  /** Upper bound of any delay, in ms (default 30 000). */
  maxDelayMs?: number;
  /** Growth factor per failed attempt (default 2). */
  multiplier?: number;
  /**
   * Share of the delay that is random, 0..1 (default 0.5): the delay is drawn from
   * `[d × (1 − jitter), d]`, so many clients cut off at once do not come back in step.
   */
  jitter?: number;
  /** Consecutive failed attempts after which the caller gives up (default 60). */
  maxAttempts?: number;
  /** A connection that lived this long resets the attempt count (default 60 000 ms). */
  resetAfterMs?: number;
}

/** Fully resolved backoff settings. */
export type BackoffSettings = Readonly<Required<BackoffOptions>>;

/** Fills in the defaults and checks the ranges (a bad setting throws a `RangeError` naming it). */
export function backoffSettings(options: BackoffOptions = {}): BackoffSettings {
  const s: BackoffSettings = {
    initialDelayMs: options.initialDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? 0.5,
    maxAttempts: options.maxAttempts ?? 60,
    resetAfterMs: options.resetAfterMs ?? 60_000,
  };
  if (!(s.initialDelayMs >= 0))
    throw new RangeError(`backoff.initialDelayMs must be >= 0, got ${s.initialDelayMs}`);
  if (!(s.maxDelayMs >= s.initialDelayMs)) {
    throw new RangeError(`backoff.maxDelayMs must be >= initialDelayMs, got ${s.maxDelayMs}`);
  }
  if (!(s.multiplier >= 1)) throw new RangeError(`backoff.multiplier must be >= 1, got ${s.multiplier}`);
  if (!(s.jitter >= 0 && s.jitter <= 1))
    throw new RangeError(`backoff.jitter must be in [0, 1], got ${s.jitter}`);
  if (!(Number.isInteger(s.maxAttempts) && s.maxAttempts >= 1)) {
    throw new RangeError(`backoff.maxAttempts must be an integer >= 1, got ${s.maxAttempts}`);
  }
  if (!(s.resetAfterMs >= 0))
    throw new RangeError(`backoff.resetAfterMs must be >= 0, got ${s.resetAfterMs}`);
  return s;
}

/**
 * Counts consecutive failures and says how long to wait before the next attempt. `random` is
 * injectable so tests can pin the jitter.
 */
export class Backoff {
  readonly settings: BackoffSettings;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.settings = backoffSettings(options);
    this.#random = random;
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Whether another attempt is allowed. */
  get exhausted(): boolean {
    return this.#failures >= this.settings.maxAttempts;
  }

  /** Records a failure and returns the delay before the next attempt, in ms. */
  fail(): number {
    this.#failures += 1;
    return this.delayFor(this.#failures);
  }

  /** The delay after the `failures`-th consecutive failure (1-based), jittered and bounded. */
  delayFor(failures: number): number {
    const { initialDelayMs, maxDelayMs, multiplier, jitter } = this.settings;
    const exponent = Math.max(0, failures - 1);
    const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** exponent);
    return Math.round(base * (1 - jitter * this.#random()));
  }

  /** Forgets past failures (after a connection proved stable). */
  reset(): void {
    this.#failures = 0;
  }
}
