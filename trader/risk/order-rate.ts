// The account's order-rate budget as risk sees it: Binance's 10 s and 1 min order counts, from the exchange's own headers or counted locally.
import type { WeightBudget } from '../../ts/exchange/weight-budget.js';

/** Orders counted in the current windows and the limits they are paced to (`null`: no limit). */
export interface OrderRateUsage {
  readonly count10s: number;
  readonly limit10s: number | null;
  readonly count1m: number;
  readonly limit1m: number | null;
}

/** Where the order counts come from. */
export interface OrderRateMeter {
  usage(now: number): OrderRateUsage;
  /** An order is about to be sent (a local meter counts it; the exchange's counts need nothing). */
  record(now: number): void;
  /**
   * Whether requests wait their turn in the rate limiter now (sent later, not refused). Absent: a
   * meter that only counts, where nothing waits.
   */
  holding?(now: number): boolean;
}

/**
 * The exchange client's budget: its counts rise to Binance's `X-MBX-ORDER-COUNT-10S/1M` headers,
 * which count every order of the account, so traders sharing an account see each other's orders
 * with every answer they get; its limits are the paced share of exchangeInfo's ORDERS limits.
 */
export class BudgetOrderRate implements OrderRateMeter {
  readonly #budget: WeightBudget;

  constructor(budget: WeightBudget) {
    this.#budget = budget;
  }

  usage(): OrderRateUsage {
    const s = this.#budget.stats();
    return {
      count10s: s.orders10s,
      limit10s: s.limits.ordersPer10s,
      count1m: s.orders1m,
      limit1m: s.limits.ordersPerMinute,
    };
  }

  record(): void {
    // The budget counts the request itself when it is sent.
  }

  /**
   * Requests wait in the budget: for the order counts' next window, the IP weight's, or the end of
   * a 429/418 block. Any request counts, not only orders: a ladder's reads of the exchange's stop
   * list wait there too when the weight or a block holds them (an order waiting for the order
   * count holds back only the orders behind it).
   */
  holding(): boolean {
    return this.#budget.stats().waiting > 0;
  }
}

/** Counts orders in fixed 10 s and 1 min windows (paper and backtest, where no exchange counts them). */
export class LocalOrderRate implements OrderRateMeter {
  readonly #limit10s: number | null;
  readonly #limit1m: number | null;
  #window10s = -1;
  #window1m = -1;
  #count10s = 0;
  #count1m = 0;

  constructor(limits: { ordersPer10s: number | null; ordersPerMinute: number | null }) {
    this.#limit10s = limits.ordersPer10s;
    this.#limit1m = limits.ordersPerMinute;
  }

  usage(now: number): OrderRateUsage {
    this.#roll(now);
    return {
      count10s: this.#count10s,
      limit10s: this.#limit10s,
      count1m: this.#count1m,
      limit1m: this.#limit1m,
    };
  }

  record(now: number): void {
    this.#roll(now);
    this.#count10s += 1;
    this.#count1m += 1;
  }

  #roll(now: number): void {
    const w10 = Math.floor(now / 10_000);
    if (w10 !== this.#window10s) {
      this.#window10s = w10;
      this.#count10s = 0;
    }
    const w1m = Math.floor(now / 60_000);
    if (w1m !== this.#window1m) {
      this.#window1m = w1m;
      this.#count1m = 0;
    }
  }
}
