// Rate-limited logging: at most one line per key per interval, with the count of lines held back.

/**
 * Says whether a line for `key` may be written now. Floods of bad input must not turn into floods
 * of log lines; the counters keep the full tally, the log gets a sample with `suppressed`.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(intervalMs = 10_000) {
    this.#intervalMs = intervalMs;
  }

  /** `undefined` when the line must be dropped; else how many were dropped since the last one. */
  allow(key: string, nowMs: number): number | undefined {
    const entry = this.#last.get(key);
    if (entry !== undefined && nowMs - entry.at < this.#intervalMs) {
      entry.suppressed += 1;
      return undefined;
    }
    if (this.#last.size > 10_000) this.#last.clear();
    this.#last.set(key, { at: nowMs, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}
