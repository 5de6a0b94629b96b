// A drift-free send schedule: messages at a fixed rate, grouped into one batch per millisecond tick.

/**
 * Message `m` (0-based) is due at `m / rate` seconds after the start; tick `i` carries the messages
 * due in `[i, i + 1)` ms. Due times come from the start and the index, never from the previous
 * send, so a late tick does not push the rest of the schedule back (no drift): a sender that wakes
 * late sends every tick already due.
 */
export class PaceSchedule {
  /** Ticks in the schedule. */
  readonly ticks: number;
  /** Messages in the schedule. */
  readonly messages: number;

  constructor(
    /** Messages per second (a positive integer). */
    readonly rate: number,
    /** Length of the schedule in ms (= ticks). */
    durationMs: number,
  ) {
    if (!Number.isInteger(rate) || rate <= 0)
      throw new RangeError(`rate must be a positive integer: ${rate}`);
    if (!Number.isInteger(durationMs) || durationMs <= 0)
      throw new RangeError(`duration must be a positive whole number of ms: ${durationMs}`);
    this.ticks = durationMs;
    this.messages = this.firstOf(durationMs);
  }

  /** Index of the first message of tick `tick` (for `tick = ticks`: the message count). */
  firstOf(tick: number): number {
    // Messages with m·1000/rate < tick, i.e. m < tick·rate/1000: ceil(tick·rate/1000), in integers.
    return Math.floor((tick * this.rate + 999) / 1000);
  }

  /** Messages of tick `tick` as `[from, to)`. */
  range(tick: number): [number, number] {
    return [this.firstOf(tick), this.firstOf(tick + 1)];
  }

  /** Ticks due at `elapsedMs` after the start that come at or after `nextTick`: `[nextTick, end)`. */
  dueThrough(nextTick: number, elapsedMs: number): number {
    return Math.min(this.ticks, Math.max(nextTick, Math.floor(elapsedMs) + 1));
  }

  /** The tick message `m` belongs to. */
  tickOf(m: number): number {
    return Math.floor((m * 1000) / this.rate);
  }
}
