// Counts the ladders' venue requests per symbol while they are out, so a ladder waiting its turn in the order-rate limiter is told apart from one that failed.
import type { EngineClock } from '../engine/engine-clock.js';
import type { OrderRateMeter } from '../risk/order-rate.js';
import type { StopOrderVenue } from './stop-orders.js';

/**
 * A limiter that let none of the ladders' requests through for longer than this plus the grace is
 * stuck rather than busy: an order waits for the next minute's window at most, ~60 s.
 */
export const ORDER_WINDOW_MS = 60_000;

/**
 * Every per-symbol request of the ladders (place, cancel, list) counted from when it is made until
 * the venue answers, whether it waits in the order-rate limiter or at the exchange. With the meter's
 * word that the limiter holds requests back, a symbol with requests out is queued, not failing.
 */
export class LadderRequests {
  readonly #clock: EngineClock;
  readonly #meter: OrderRateMeter | undefined;
  readonly #stuckAfterMs: number;
  /** Requests of each symbol out now. */
  readonly #perSymbol = new Map<string, number>();
  /** Requests out now, over every symbol. */
  #outstanding = 0;
  /**
   * When the venue last answered a request, or requests began to wait after none did: a limiter
   * that drains keeps moving it forward.
   */
  #progressAt = 0;

  /** `graceMs`: the coverage grace, added to {@link ORDER_WINDOW_MS} before a silent limiter counts as stuck. */
  constructor(clock: EngineClock, meter: OrderRateMeter | undefined, graceMs: number) {
    this.#clock = clock;
    this.#meter = meter;
    this.#stuckAfterMs = ORDER_WINDOW_MS + graceMs;
  }

  /** Runs a venue request of `symbol`, counted while it is out. */
  async run<T>(symbol: string, request: () => Promise<T>): Promise<T> {
    if (this.#outstanding === 0) this.#progressAt = this.#clock.now();
    this.#outstanding += 1;
    this.#perSymbol.set(symbol, (this.#perSymbol.get(symbol) ?? 0) + 1);
    try {
      return await request();
    } finally {
      this.#outstanding -= 1;
      const left = (this.#perSymbol.get(symbol) ?? 1) - 1;
      if (left > 0) this.#perSymbol.set(symbol, left);
      else this.#perSymbol.delete(symbol);
      this.#progressAt = this.#clock.now();
    }
  }

  /** `venue` with every per-symbol request counted by {@link LadderRequests.run}. */
  counted(venue: StopOrderVenue): StopOrderVenue {
    return {
      placeStop: (request) => this.run(request.symbol, () => venue.placeStop(request)),
      cancelStop: (symbol, id) => this.run(symbol, () => venue.cancelStop(symbol, id)),
      openStops: (symbol) =>
        symbol === undefined ? venue.openStops() : this.run(symbol, () => venue.openStops(symbol)),
    };
  }

  /** Whether the order-rate limiter holds requests back now (they wait their turn; none was refused). */
  limiterHolding(now: number): boolean {
    if (this.#meter?.holding?.(now) !== true) return false;
    // A limiter that lets nothing through is stuck, not busy: its waits stop being credited.
    return now - this.#progressAt <= this.#stuckAfterMs;
  }

  /** Whether `symbol` has requests out now. */
  hasOut(symbol: string): boolean {
    return (this.#perSymbol.get(symbol) ?? 0) > 0;
  }
}
