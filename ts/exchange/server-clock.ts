// The exchange's clock as seen from here: local time plus an offset measured from GET /fapi/v1/time.
import type { Logger } from '../log/logger.js';
import type { Scheduler } from './scheduler.js';

/** One time sample: local send and receive times around the server's reported time. */
export interface TimeSample {
  readonly sentAt: number;
  readonly serverTime: number;
  readonly receivedAt: number;
}

/**
 * Estimates server time as local time + offset. The offset comes from the midpoint of a request's
 * round trip (`serverTime − (sent + received) / 2`), which cancels symmetric network delay.
 * `sync` is coalesced: concurrent callers share one request.
 */
export class ServerClock {
  readonly #scheduler: Scheduler;
  readonly #fetchSample: () => Promise<TimeSample>;
  readonly #log: Logger;
  #offsetMs = 0;
  #roundTripMs: number | null = null;
  #syncedAt: number | null = null;
  #pending: Promise<void> | null = null;

  /** `fetchSample` performs one GET /fapi/v1/time and reports its local send/receive times. */
  constructor(scheduler: Scheduler, fetchSample: () => Promise<TimeSample>, log: Logger) {
    this.#scheduler = scheduler;
    this.#fetchSample = fetchSample;
    this.#log = log;
  }

  /** Estimated exchange time, Unix ms. */
  now(): number {
    return this.#scheduler.now() + this.#offsetMs;
  }

  /** Server time minus local time, ms (positive when the exchange is ahead). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Round trip of the last sync, ms (`null` before the first). */
  get roundTripMs(): number | null {
    return this.#roundTripMs;
  }

  /** Local time of the last successful sync (`null` before the first). */
  get syncedAt(): number | null {
    return this.#syncedAt;
  }

  /** Whether the offset was never measured or is older than `maxAgeMs`. */
  isStale(maxAgeMs: number): boolean {
    return this.#syncedAt === null || this.#scheduler.now() - this.#syncedAt > maxAgeMs;
  }

  /** Applies one measurement. */
  apply(sample: TimeSample): void {
    const roundTrip = sample.receivedAt - sample.sentAt;
    const offset = Math.round(sample.serverTime - (sample.sentAt + sample.receivedAt) / 2);
    const previous = this.#offsetMs;
    this.#offsetMs = offset;
    this.#roundTripMs = roundTrip;
    this.#syncedAt = sample.receivedAt;
    this.#log.info('server time synced', {
      offsetMs: offset,
      previousOffsetMs: previous,
      roundTripMs: roundTrip,
    });
  }

  /** Measures the offset now (joining a sync already under way). */
  sync(): Promise<void> {
    if (this.#pending !== null) return this.#pending;
    const run = (async () => {
      try {
        this.apply(await this.#fetchSample());
      } finally {
        this.#pending = null;
      }
    })();
    this.#pending = run;
    return run;
  }
}
