// Runs one poll at a fixed pace, backing off on failures and waiting out exchange rate-limit blocks.
import { IpBannedError, RateLimitedError } from '../ts/exchange/exchange-errors.js';
import { BudgetClosedError } from '../ts/exchange/weight-budget.js';
import type { Logger } from '../ts/log/logger.js';

export interface PollLoopOptions {
  /** Time between the starts of two polls. */
  readonly intervalMs: number;
  /** Longest wait after consecutive failures (default 30 s). */
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
  /** Computes the wait before the next poll itself (tick slots); overrides `intervalMs`. */
  readonly nextDelay?: (now: number) => number;
}

/** Counters of a `PollLoop`. */
export interface PollCounters {
  polls: number;
  failures: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastError: string | null;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Calls `poll` every `intervalMs` (measured start to start, never overlapping). A failure is
 * counted and logged, and the next attempt waits twice as long as the last (up to
 * `maxBackoffMs`); a 429/418 from the exchange waits until the exchange's own deadline. The loop
 * runs until `stop`, which waits for the poll in flight.
 */
export class PollLoop {
  readonly #options: PollLoopOptions;
  readonly #poll: () => Promise<void>;
  readonly counters: PollCounters = {
    polls: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastSuccessAt: null,
    lastError: null,
  };
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> | undefined;

  constructor(options: PollLoopOptions, poll: () => Promise<void>) {
    this.#options = options;
    this.#poll = poll;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#inFlight = this.#run();
      },
      Math.max(0, delayMs),
    );
  }

  async #run(): Promise<void> {
    const started = Date.now();
    let delay: number;
    try {
      await this.#poll();
      this.counters.polls += 1;
      this.counters.consecutiveFailures = 0;
      this.counters.lastSuccessAt = Date.now();
      const now = Date.now();
      delay =
        this.#options.nextDelay === undefined
          ? this.#options.intervalMs - (now - started)
          : this.#options.nextDelay(now);
    } catch (error) {
      this.counters.failures += 1;
      this.counters.consecutiveFailures += 1;
      this.counters.lastError = describeError(error);
      const backoff = Math.min(
        this.#options.maxBackoffMs ?? 30_000,
        this.#options.intervalMs * 2 ** Math.min(this.counters.consecutiveFailures, 10),
      );
      delay =
        error instanceof RateLimitedError || error instanceof IpBannedError
          ? Math.max(backoff, error.retryAfterMs)
          : backoff;
      // A poll cut short by the stop (its request was waiting for weight) is no failure to report.
      const level = !this.#running && error instanceof BudgetClosedError ? 'debug' : 'warn';
      this.#options.logger[level]('poll failed', {
        error: this.counters.lastError,
        consecutive: this.counters.consecutiveFailures,
        retryInMs: Math.round(delay),
      });
    }
    this.#inFlight = undefined;
    this.#schedule(delay);
  }
}
