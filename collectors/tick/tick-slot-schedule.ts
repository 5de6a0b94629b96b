// When a tick collector may poll: its hub-assigned sub-windows of every second (DESIGN.md 4, slots).

/** A slot the hub assigned: collector `index` of `count`. */
export interface TickSlot {
  readonly index: number;
  readonly count: number;
}

/** Sub-windows per second: a collector polls at most this many times a second. */
export const WINDOWS_PER_SECOND = 8;

const WINDOW_MS = 1000 / WINDOWS_PER_SECOND;

/**
 * The polling schedule of slot `(k, N)`: inside each second, the windows
 * `[k·1000/N/8 + 125b, (k+1)·1000/N/8 + 125b)` for b = 0..7, so N collectors interleave without
 * overlap and each polls at most 8 times a second.
 */
export class TickSlotSchedule {
  readonly #start: number;
  readonly #end: number;

  constructor(readonly slot: TickSlot) {
    if (!Number.isInteger(slot.count) || slot.count < 1)
      throw new RangeError(`slot count ${slot.count} must be ≥ 1`);
    if (!Number.isInteger(slot.index) || slot.index < 0 || slot.index >= slot.count) {
      throw new RangeError(`slot index ${slot.index} must be in 0..${slot.count - 1}`);
    }
    const width = WINDOW_MS / slot.count;
    this.#start = slot.index * width;
    this.#end = (slot.index + 1) * width;
  }

  /** Whether `timeMs` falls inside one of this slot's windows. */
  contains(timeMs: number): boolean {
    const offset = (((timeMs % 1000) + 1000) % 1000) % WINDOW_MS;
    return offset >= this.#start && offset < this.#end;
  }

  /** The start of this slot's window that contains `timeMs`, or of the last one before it. */
  windowStart(timeMs: number): number {
    const start = Math.floor(timeMs / WINDOW_MS) * WINDOW_MS + this.#start;
    return start > timeMs ? start - WINDOW_MS : start;
  }

  /**
   * The start (Unix ms, an integer) of the first window at or after `timeMs` that begins after
   * `lastPollMs`'s window, so one window yields at most one poll.
   */
  nextPollTime(timeMs: number, lastPollMs?: number): number {
    const base = Math.floor(timeMs / WINDOW_MS) * WINDOW_MS;
    for (let w = 0; w < WINDOWS_PER_SECOND + 1; w++) {
      const windowStart = base + w * WINDOW_MS;
      const start = Math.ceil(windowStart + this.#start);
      const end = windowStart + this.#end;
      const candidate = Math.max(start, Math.ceil(timeMs));
      if (candidate >= end) continue;
      if (lastPollMs !== undefined && lastPollMs >= windowStart + this.#start && lastPollMs < end) continue;
      return candidate;
    }
    throw new Error('unreachable: a slot always has a window within one second');
  }
}
