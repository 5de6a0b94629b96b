// The simulator's clock: wall-clock time plus an adjustable skew, shared by every part of the simulator.
import type { SimClock } from '../contracts.js';

/**
 * `Date.now()` plus a skew in milliseconds. The server's `time` endpoint, the recvWindow check, the
 * market and the engine all read this one clock, so a skew fault moves the whole exchange in time.
 */
export class SimulatorClock implements SimClock {
  #skewMs: number;
  readonly #wallNow: () => number;

  constructor(skewMs = 0, wallNow: () => number = Date.now) {
    this.#skewMs = skewMs;
    this.#wallNow = wallNow;
  }

  now(): number {
    return this.#wallNow() + this.#skewMs;
  }

  /** The current skew in milliseconds (positive: the server is ahead of the wall clock). */
  get skewMs(): number {
    return this.#skewMs;
  }

  setSkew(skewMs: number): void {
    if (!Number.isSafeInteger(skewMs)) throw new RangeError(`clock skew must be an integer, got ${skewMs}`);
    this.#skewMs = skewMs;
  }
}
