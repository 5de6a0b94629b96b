// Watches one source of data for staleness: alerts once it has been stale past a grace, and once when it is fresh again.
import type { AlertSink } from './alert.js';
import { staleDataAlert } from './alert-sources.js';
import { ProblemTracker } from './problem-tracker.js';

/** Options of a {@link StaleWatch}. */
export interface StaleWatchOptions {
  /** Who notices (names the alert's source: `trader.data-stale`). */
  readonly where: 'hub' | 'trader';
  /** What the data is, for a person (`market data of trader-0`). */
  readonly what: string;
  /** Why the data is stale now, or `undefined` while it is fresh. */
  readonly problem: () => string | undefined;
  /** Stale for this long before the owner is told, ms (a blip is not an alert). */
  readonly graceMs: number;
  /** How often `problem` is asked, ms. */
  readonly checkMs: number;
  readonly alerts: AlertSink;
  readonly now?: () => number;
}

/**
 * Asks `problem()` every `checkMs`; raises `<where>.data-stale` (warning) once the data has been
 * stale for `graceMs`, and `<where>.data-fresh` (info) when it is fresh again after that.
 */
export class StaleWatch {
  readonly #o: StaleWatchOptions;
  readonly #now: () => number;
  readonly #tracker: ProblemTracker<string>;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StaleWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#tracker = new ProblemTracker(options.graceMs);
  }

  start(): void {
    this.#timer = setInterval(() => this.check(), this.#o.checkMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look (the timer's job; tests call it directly). */
  check(): void {
    const now = this.#now();
    const reason = this.#o.problem();
    const { started, ended } = this.#tracker.update(
      now,
      new Map(reason === undefined ? [] : [['data', reason]]),
    );
    const { where, what } = this.#o;
    for (const { problem, since } of started) {
      this.#o.alerts.raise(
        staleDataAlert({ where, what, ageMs: now - since, reason: problem, fresh: false }),
      );
    }
    for (const { since } of ended) {
      this.#o.alerts.raise(staleDataAlert({ where, what, ageMs: now - since, fresh: true }));
    }
  }
}
